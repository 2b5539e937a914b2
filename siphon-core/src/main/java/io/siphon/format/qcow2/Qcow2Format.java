package io.siphon.format.qcow2;

import io.siphon.format.BackingNames;
import io.siphon.format.BackingReference;
import io.siphon.format.CreateOptions;
import io.siphon.format.Image;
import io.siphon.format.ImageChain;
import io.siphon.format.ImageFile;
import io.siphon.format.ImageFormat;
import io.siphon.format.ImageFormatException;
import io.siphon.format.OpenOptions;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * QEMU's qcow2 format, versions 2 (compat 0.10) and 3 (compat 1.1), byte-compatible with QEMU 7.2.
 * Stateless and thread-safe; the images it opens are thread-safe too.
 */
public final class Qcow2Format implements ImageFormat {
    public static final String NAME = "qcow2";
    private static final int DEFAULT_CLUSTER_SIZE = 64 << 10;

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public int probe(ByteBuffer head) {
        return head.remaining() >= 8
                        && head.getInt(head.position()) == Qcow2Header.MAGIC
                        && (head.getInt(head.position() + 4) == 2 || head.getInt(head.position() + 4) == 3)
                ? 100
                : 0;
    }

    @Override
    public Image open(ImageFile file, OpenOptions options) throws IOException {
        return Qcow2Image.open(file, options);
    }

    @Override
    public Image openForCheck(ImageFile file, OpenOptions options) throws IOException {
        return Qcow2Image.openForCheck(file, options);
    }

    /**
     * Creates an image as {@code qemu-img create -f qcow2} does: options cluster_size, compat
     * (0.10 or 1.1), refcount_bits, lazy_refcounts; the backing name and format are recorded in the
     * header (the format extension for both versions, as QEMU writes it).
     */
    @Override
    public void create(Path path, CreateOptions options) throws IOException {
        Map<String, String> rest = new HashMap<>(options.formatOptions());
        int clusterSize = (int) parseSize(path, "cluster_size", rest.remove("cluster_size"), DEFAULT_CLUSTER_SIZE);
        String compat = Optional.ofNullable(rest.remove("compat")).orElse("1.1");
        int version = switch (compat) {
            case "0.10", "v2" -> 2;
            case "1.1", "v3" -> 3;
            default -> throw Errors.refused(path, "compat", "'" + compat + "' is not 0.10 or 1.1");
        };
        int refcountBits = (int) parseSize(path, "refcount_bits", rest.remove("refcount_bits"), 16);
        boolean lazy = parseBoolean(path, "lazy_refcounts", rest.remove("lazy_refcounts"));
        if (!rest.isEmpty()) {
            throw Errors.refused(path, "options", "unknown qcow2 options " + rest.keySet());
        }
        if (clusterSize < 512 || clusterSize > (2 << 20) || Integer.bitCount(clusterSize) != 1) {
            throw Errors.refused(path, "cluster_size", clusterSize + " is not a power of two from 512 B to 2 MiB");
        }
        if (refcountBits < 1 || refcountBits > 64 || Integer.bitCount(refcountBits) != 1) {
            throw Errors.refused(path, "refcount_bits", refcountBits + " is not a power of two from 1 to 64");
        }
        if (version == 2 && refcountBits != 16) {
            throw Errors.refused(path, "refcount_bits", "compat 0.10 images have 16-bit refcounts only");
        }
        if (version == 2 && lazy) {
            throw Errors.refused(path, "lazy_refcounts", "lazy refcounts need compat 1.1");
        }
        Optional<BackingReference> backing = options.backing();
        long sizeBytes = options.sizeBytes();
        Optional<String> backingFormat = Optional.empty();
        if (backing.isPresent()) {
            Path backingPath = BackingNames.resolve(path, backing.get().name());
            try (Image below = ImageChain.openOne(backingPath, backing.get().format(), OpenOptions.FORCE_SHARE)) {
                backingFormat = Optional.of(below.formatName());
                if (sizeBytes == CreateOptions.SIZE_OF_BACKING) {
                    sizeBytes = below.sizeBytes();
                }
            } catch (ImageFormatException e) {
                throw new ImageFormatException(
                        ImageFormatException.Reason.BAD_CHAIN,
                        path,
                        "backing file",
                        "cannot open backing file '" + backing.get().name() + "': " + e.getMessage(),
                        e);
            }
        } else if (sizeBytes == CreateOptions.SIZE_OF_BACKING) {
            throw Errors.refused(path, "size", "a size is required without a backing file");
        }
        int clusterBits = Integer.numberOfTrailingZeros(clusterSize);
        int refcountOrder = Integer.numberOfTrailingZeros(refcountBits);
        List<HeaderExtension> extensions = new ArrayList<>();
        if (version == 3 && clusterSize >= 8192) {
            extensions.add(new HeaderExtension(HeaderExtension.FEATURE_TABLE, FeatureNameTable.standard()));
        }
        Qcow2Header header = new Qcow2Header(
                version,
                clusterBits,
                0,
                0,
                0,
                0,
                clusterSize,
                1,
                0,
                0,
                0,
                lazy ? Qcow2Header.COMPAT_LAZY_REFCOUNTS : 0,
                0,
                refcountOrder,
                new byte[version == 3 ? Qcow2Header.V3_LENGTH - Qcow2Header.V3_MIN_LENGTH : 0],
                backing.map(BackingReference::name),
                backingFormat,
                extensions);
        writeSkeleton(path, header);
        try (ImageFile file = ImageFile.open(path, OpenOptions.READ_WRITE);
                Qcow2Image image = Qcow2Image.open(file, OpenOptions.READ_WRITE)) {
            image.initializeL1(sizeBytes);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(path);
            throw e;
        }
    }

    /**
     * The smallest valid image: header, a one-cluster refcount table, and one refcount block
     * counting those three clusters. The L1 table is added by the engine, which grows refcount
     * structures as any allocation would.
     */
    private static void writeSkeleton(Path path, Qcow2Header header) throws IOException {
        int clusterSize = header.clusterSize();
        byte[] first = header.encode(path);
        ByteBuffer table = ByteBuffer.allocate(clusterSize).putLong(0, 2L * clusterSize);
        ByteBuffer block = ByteBuffer.allocate(clusterSize);
        for (int cluster = 0; cluster < 3; cluster++) {
            RefcountBlock.set(block, cluster, header.geometry().refcountBits(), 1);
        }
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            writeAll(channel, ByteBuffer.wrap(first), 0);
            writeAll(channel, table, clusterSize);
            writeAll(channel, block, 2L * clusterSize);
            channel.force(false);
        } catch (FileAlreadyExistsException e) {
            throw Errors.refused(path, "", "file already exists");
        }
    }

    private static void writeAll(FileChannel channel, ByteBuffer buffer, long offset) throws IOException {
        long at = offset;
        while (buffer.hasRemaining()) {
            at += channel.write(buffer, at);
        }
    }

    private static long parseSize(Path path, String option, String value, long defaultValue)
            throws ImageFormatException {
        if (value == null) {
            return defaultValue;
        }
        String v = value.trim().toLowerCase(java.util.Locale.ROOT);
        long multiplier = 1;
        if (!v.isEmpty()) {
            char unit = v.charAt(v.length() - 1);
            int shift = "bkmgt".indexOf(unit) * 10;
            if (shift >= 0) {
                multiplier = 1L << shift;
                v = v.substring(0, v.length() - 1);
            }
        }
        try {
            return Math.multiplyExact(Long.parseLong(v), multiplier);
        } catch (NumberFormatException | ArithmeticException e) {
            throw Errors.refused(path, option, "'" + value + "' is not a size");
        }
    }

    private static boolean parseBoolean(Path path, String option, String value) throws ImageFormatException {
        if (value == null) {
            return false;
        }
        return switch (value) {
            case "on", "true", "yes" -> true;
            case "off", "false", "no" -> false;
            default -> throw Errors.refused(path, option, "'" + value + "' is not on or off");
        };
    }
}
