package io.siphon.format.qcow2;

import io.siphon.format.BackingReference;
import io.siphon.format.CreateOptions;
import io.siphon.format.Image;
import io.siphon.format.ImageChain;
import io.siphon.format.ImageFile;
import io.siphon.format.ImageFormat;
import io.siphon.format.ImageFormatException;
import io.siphon.format.MeasureSource;
import io.siphon.format.Measurement;
import io.siphon.format.OpenOptions;
import io.siphon.format.Preallocation;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * QEMU's qcow2 format, versions 2 (compat 0.10) and 3 (compat 1.1), byte-compatible with QEMU 7.2.
 * Stateless and thread-safe; the images it opens are thread-safe too.
 */
public final class Qcow2Format implements ImageFormat {
    public static final String NAME = "qcow2";

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
    public void validateCreateOptions(Path path, Map<String, String> formatOptions) throws ImageFormatException {
        Qcow2CreateOptions.parse(path, formatOptions);
    }

    @Override
    public void resize(Path path, long newSizeBytes) throws IOException {
        try (ImageFile file = ImageFile.open(path, OpenOptions.READ_WRITE);
                Qcow2Image image = Qcow2Image.open(file, OpenOptions.READ_WRITE)) {
            image.resize(newSizeBytes);
        }
    }

    @Override
    public Measurement measure(MeasureSource source, Map<String, String> options) throws ImageFormatException {
        Qcow2CreateOptions parsed = Qcow2CreateOptions.parse(Path.of(""), options);
        if (parsed.preallocation() != Preallocation.OFF) {
            throw Errors.unsupported(Path.of(""), "preallocation", "measure counts no preallocation; use off");
        }
        return Qcow2Measure.measure(source, parsed);
    }

    @Override
    public void amend(Path path, Map<String, String> options, AmendProgress progress) throws IOException {
        Qcow2AmendOptions parsed = Qcow2AmendOptions.parse(path, options);
        try (ImageFile file = ImageFile.open(path, OpenOptions.READ_WRITE);
                Qcow2Image image = Qcow2Image.open(file, OpenOptions.READ_WRITE)) {
            image.amend(parsed, progress);
        }
    }

    @Override
    public boolean makeEmpty(Path path) throws IOException {
        try (ImageFile file = ImageFile.open(path, OpenOptions.READ_WRITE);
                Qcow2Image image = Qcow2Image.open(file, OpenOptions.READ_WRITE)) {
            image.makeEmpty();
        }
        return true;
    }

    @Override
    public boolean supportsCompression() {
        return true;
    }

    @Override
    public void createSnapshot(Path path, String name) throws IOException {
        try (ImageFile file = ImageFile.open(path, OpenOptions.READ_WRITE);
                Qcow2Image image = Qcow2Image.open(file, OpenOptions.READ_WRITE)) {
            image.createSnapshot(name);
        }
    }

    @Override
    public void applySnapshot(Path path, String name) throws IOException {
        try (ImageFile file = ImageFile.open(path, OpenOptions.READ_WRITE);
                Qcow2Image image = Qcow2Image.open(file, OpenOptions.READ_WRITE)) {
            image.applySnapshot(name);
        }
    }

    @Override
    public void deleteSnapshot(Path path, String name) throws IOException {
        try (ImageFile file = ImageFile.open(path, OpenOptions.READ_WRITE);
                Qcow2Image image = Qcow2Image.open(file, OpenOptions.READ_WRITE)) {
            image.deleteSnapshot(name);
        }
    }

    @Override
    public Image openForCheck(ImageFile file, OpenOptions options) throws IOException {
        return Qcow2Image.openForCheck(file, options);
    }

    /**
     * Creates an image as {@code qemu-img create -f qcow2} does: options cluster_size, compat
     * (0.10 or 1.1), refcount_bits, lazy_refcounts, compression_type, extended_l2, preallocation;
     * the backing name and format are recorded in the
     * header (the format extension for both versions, as QEMU writes it).
     */
    @Override
    public void create(Path path, CreateOptions options) throws IOException {
        Qcow2CreateOptions parsed = Qcow2CreateOptions.parse(path, options.formatOptions());
        int clusterSize = parsed.clusterSize();
        int version = parsed.version();
        int refcountBits = parsed.refcountBits();
        boolean lazy = parsed.lazyRefcounts();
        Optional<BackingReference> backing = options.backing();
        // preallocated clusters over a backing file read from it only where subclusters can say so
        if (backing.isPresent() && parsed.preallocation() != Preallocation.OFF && !parsed.extendedL2()) {
            throw Errors.refused(
                    path, "", "Backing file and preallocation can only be used at the same time if extended_l2 is on");
        }
        long sizeBytes = options.sizeBytes();
        Optional<String> backingFormat = Optional.empty();
        if (backing.isPresent()) {
            OpenOptions backingOptions = OpenOptions.FORCE_SHARE.withRemote(options.remote());
            try (Image below = ImageChain.openBacking(path, backing.get(), backingOptions)) {
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
                (parsed.compressionType() != Qcow2Header.COMPRESSION_ZLIB ? Qcow2Header.INCOMPAT_COMPRESSION_TYPE : 0)
                        | (parsed.extendedL2() ? Qcow2Header.INCOMPAT_EXTENDED_L2 : 0),
                lazy ? Qcow2Header.COMPAT_LAZY_REFCOUNTS : 0,
                0,
                refcountOrder,
                additionalFields(version, parsed.compressionType()),
                backing.map(BackingReference::name),
                backingFormat,
                extensions);
        writeSkeleton(path, header);
        try {
            try (ImageFile file = ImageFile.open(path, OpenOptions.READ_WRITE);
                    Qcow2Image image = Qcow2Image.open(file, OpenOptions.READ_WRITE)) {
                image.initializeL1(sizeBytes);
            }
            if (parsed.preallocation() != Preallocation.OFF) {
                try (ImageFile file = ImageFile.open(path, OpenOptions.READ_WRITE);
                        Qcow2Image image = Qcow2Image.open(file, OpenOptions.READ_WRITE)) {
                    image.preallocate(parsed.preallocation());
                }
            }
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(path);
            throw e;
        }
    }

    /** The version 3 fields after the first 104 bytes: the compression type, then padding. */
    private static byte[] additionalFields(int version, int compressionType) {
        if (version != 3) {
            return new byte[0];
        }
        byte[] fields = new byte[Qcow2Header.V3_LENGTH - Qcow2Header.V3_MIN_LENGTH];
        fields[0] = (byte) compressionType;
        return fields;
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
}
