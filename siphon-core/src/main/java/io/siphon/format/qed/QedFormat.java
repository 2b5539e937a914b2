package io.siphon.format.qed;

import io.siphon.format.BackingReference;
import io.siphon.format.CreateOptions;
import io.siphon.format.Image;
import io.siphon.format.ImageChain;
import io.siphon.format.ImageFile;
import io.siphon.format.ImageFormat;
import io.siphon.format.ImageFormatException;
import io.siphon.format.ImageFormatException.Reason;
import io.siphon.format.OpenOptions;
import io.siphon.format.Preallocation;
import io.siphon.format.raw.RawFormat;
import io.siphon.util.Alignment;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * QEMU's QED format (docs/interop/qed_spec.txt), byte-compatible with QEMU 7.2: probing by the
 * magic "QED\0", opening and creating. Stateless and thread-safe; each open image is safe for
 * concurrent use.
 */
public final class QedFormat implements ImageFormat {
    /** The format's name as qemu-img spells it. */
    public static final String NAME = "qed";

    private static final Set<String> OPTIONS = Set.of("cluster_size", "table_size", "preallocation");

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public int probe(ByteBuffer head) {
        if (head.remaining() < QedHeader.BYTES) {
            return 0;
        }
        return head.duplicate().order(ByteOrder.LITTLE_ENDIAN).getInt(head.position()) == QedHeader.MAGIC ? 100 : 0;
    }

    @Override
    public Image open(ImageFile file, OpenOptions options) throws IOException {
        return QedImage.open(file, options);
    }

    /**
     * Creates an image as {@code qemu-img create -f qed} does: options {@code cluster_size} (bytes,
     * k/M/G suffixes; default 64k) and {@code table_size} (clusters; default 4); the size rounded up
     * to 512 bytes; a raw backing recorded with the BACKING_FORMAT_NO_PROBE feature.
     */
    @Override
    public void create(Path path, CreateOptions options) throws IOException {
        Map<String, String> given = options.formatOptions();
        validateCreateOptions(path, given);
        long clusterSize = sizeOption(path, given, "cluster_size", QedHeader.DEFAULT_CLUSTER_SIZE);
        long tableSize = sizeOption(path, given, "table_size", QedHeader.DEFAULT_TABLE_SIZE);
        long size =
                options.sizeBytes() == CreateOptions.SIZE_OF_BACKING ? backingSize(path, options) : options.sizeBytes();
        size = Alignment.alignUp(size, QedHeader.SECTOR_BYTES);
        if (!QedHeader.isValidImageSize(size, clusterSize, tableSize)) {
            throw refused(
                    path,
                    "size",
                    size + ": QED image size must be at most " + QedHeader.maxImageSize(clusterSize, tableSize)
                            + " bytes with cluster_size " + clusterSize + " and table_size " + tableSize);
        }
        byte[] name = options.backing()
                .map(b -> b.name().getBytes(StandardCharsets.UTF_8))
                .orElse(new byte[0]);
        requireBackingNameFits(path, name.length, clusterSize);
        boolean raw = options.backing()
                .flatMap(BackingReference::format)
                .filter(RawFormat.NAME::equals)
                .isPresent();
        QedHeader header = QedHeader.forCreate(clusterSize, tableSize, size, name.length, raw);
        ByteBuffer head = ByteBuffer.allocate(QedHeader.BYTES + name.length);
        head.put(header.encode()).put(name).flip();
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            while (head.hasRemaining()) {
                channel.write(head, head.position());
            }
            // The L1 table follows the header cluster, all zero: written, as QEMU writes it
            ByteBuffer l1 = ByteBuffer.allocate((int) header.tableBytes());
            while (l1.hasRemaining()) {
                channel.write(l1, header.l1TableOffset() + l1.position());
            }
            channel.force(true);
        } catch (FileAlreadyExistsException e) {
            throw new ImageFormatException(Reason.REFUSED, path, "", "file already exists", e);
        }
    }

    @Override
    public void validateCreateOptions(Path path, Map<String, String> given) throws ImageFormatException {
        for (String key : given.keySet()) {
            if (!OPTIONS.contains(key)) {
                throw refused(path, key, "unknown option for qed (known: cluster_size, table_size, preallocation)");
            }
        }
        long clusterSize = sizeOption(path, given, "cluster_size", QedHeader.DEFAULT_CLUSTER_SIZE);
        requireInRange(
                path,
                "cluster",
                clusterSize,
                QedHeader.isValidClusterSize(clusterSize),
                QedHeader.MIN_CLUSTER_SIZE,
                QedHeader.MAX_CLUSTER_SIZE);
        long tableSize = sizeOption(path, given, "table_size", QedHeader.DEFAULT_TABLE_SIZE);
        requireInRange(
                path,
                "table",
                tableSize,
                QedHeader.isValidTableSize(tableSize),
                QedHeader.MIN_TABLE_SIZE,
                QedHeader.MAX_TABLE_SIZE);
        // as qemu-img 7.2: falloc and full go to the (empty) file QED creates, so they allocate
        // nothing; metadata is refused
        String preallocation = given.get("preallocation");
        Preallocation mode = Preallocation.parse(
                path, Optional.ofNullable(preallocation), "invalid parameter value: " + preallocation);
        if (mode == Preallocation.METADATA) {
            throw mode.unsupported(path);
        }
    }

    @Override
    public void resize(Path path, long newSizeBytes) throws IOException {
        try (ImageFile file = ImageFile.open(path, OpenOptions.READ_WRITE);
                QedImage image = QedImage.open(file, OpenOptions.READ_WRITE)) {
            image.grow(newSizeBytes);
        }
    }

    /** Refuses {@code what}_size unless valid, with qemu-img's words. */
    private static void requireInRange(Path path, String what, long value, boolean valid, long min, long max)
            throws ImageFormatException {
        if (!valid) {
            throw refused(
                    path,
                    what + "_size",
                    value + ": QED " + what + " size must be within range [" + min + ", " + max + "] and power of 2");
        }
    }

    /** Refuses a backing name that the header clusters (after the 64-byte header) cannot hold. */
    static void requireBackingNameFits(Path path, int nameBytes, long headerBytes) throws ImageFormatException {
        if (nameBytes > QedHeader.MAX_BACKING_NAME_BYTES || QedHeader.BYTES + nameBytes > headerBytes) {
            throw refused(
                    path,
                    "backing file",
                    "backing file name of " + nameBytes + " bytes does not fit in the " + headerBytes + "-byte header");
        }
    }

    private static long backingSize(Path path, CreateOptions options) throws IOException {
        Optional<BackingReference> backing = options.backing();
        if (backing.isEmpty()) {
            throw refused(path, "size", "a size is required without a backing file");
        }
        OpenOptions backingOptions = OpenOptions.FORCE_SHARE.withRemote(options.remote());
        try (Image image = ImageChain.openBacking(path, backing.get(), backingOptions)) {
            return image.sizeBytes();
        }
    }

    private static long sizeOption(Path path, Map<String, String> given, String key, long fallback)
            throws ImageFormatException {
        String value = given.get(key);
        if (value == null) {
            return fallback;
        }
        String text = value.trim().toLowerCase(Locale.ROOT);
        long unit = 1;
        if (!text.isEmpty()) {
            int suffix = "kmgt".indexOf(text.charAt(text.length() - 1));
            if (suffix >= 0) {
                unit = 1L << (10 * (suffix + 1));
                text = text.substring(0, text.length() - 1);
            }
        }
        try {
            long number = Long.parseLong(text);
            if (number < 0) {
                throw new NumberFormatException();
            }
            return Math.multiplyExact(number, unit);
        } catch (NumberFormatException | ArithmeticException e) {
            throw refused(path, key, "'" + value + "' is not a size in bytes (k, M, G, T suffixes allowed)");
        }
    }

    private static ImageFormatException refused(Path path, String field, String detail) {
        return new ImageFormatException(Reason.REFUSED, path, field, detail);
    }
}
