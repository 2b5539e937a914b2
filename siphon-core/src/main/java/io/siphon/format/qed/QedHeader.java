package io.siphon.format.qed;

import io.siphon.format.ImageFormatException;
import io.siphon.format.ImageFormatException.Reason;
import io.siphon.util.Alignment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;

/**
 * The QED header at offset 0 (QEMU docs/interop/qed_spec.txt, "Header"): 64 little-endian bytes,
 * followed in the header clusters by the backing file name. Immutable; the geometry the header
 * implies (table entries, index shifts, which offsets are valid) is computed here too.
 *
 * @param clusterSize bytes per cluster, a power of two in [4 KiB, 64 MiB]
 * @param tableSize clusters per L1 or L2 table, a power of two in [1, 16]
 * @param headerSize clusters before the first regular cluster
 * @param imageSize the guest-visible size in bytes, a multiple of 512
 */
record QedHeader(
        long clusterSize,
        long tableSize,
        long headerSize,
        long features,
        long compatFeatures,
        long autoclearFeatures,
        long l1TableOffset,
        long imageSize,
        long backingFilenameOffset,
        long backingFilenameSize) {
    static final int MAGIC = 'Q' | 'E' << 8 | 'D' << 16;
    static final int BYTES = 64;
    static final long F_BACKING_FILE = 0x01;
    static final long F_NEED_CHECK = 0x02;
    static final long F_BACKING_FORMAT_NO_PROBE = 0x04;
    static final long KNOWN_FEATURES = F_BACKING_FILE | F_NEED_CHECK | F_BACKING_FORMAT_NO_PROBE;
    static final long KNOWN_COMPAT_FEATURES = 0;
    static final long KNOWN_AUTOCLEAR_FEATURES = 0;
    static final long MIN_CLUSTER_SIZE = 4096;
    static final long MAX_CLUSTER_SIZE = 64L << 20;
    static final long DEFAULT_CLUSTER_SIZE = 65536;
    static final long MIN_TABLE_SIZE = 1;
    static final long MAX_TABLE_SIZE = 16;
    static final long DEFAULT_TABLE_SIZE = 4;
    static final int SECTOR_BYTES = 512;
    /** QEMU reads the backing name into a PATH_MAX buffer with its terminating NUL. */
    static final int MAX_BACKING_NAME_BYTES = 4095;

    /**
     * Decodes and validates the first {@link #BYTES} bytes of {@code path}, whose length is {@code
     * fileSizeBytes}. Every field is checked in QEMU's order; the first bad one is named.
     */
    static QedHeader decode(ByteBuffer raw, Path path, long fileSizeBytes) throws ImageFormatException {
        if (raw.remaining() < BYTES) {
            throw malformed(
                    path,
                    "header",
                    "file is " + fileSizeBytes + " bytes, shorter than the " + BYTES + "-byte QED header");
        }
        ByteBuffer le = raw.slice().order(ByteOrder.LITTLE_ENDIAN);
        int magic = le.getInt(0);
        if (magic != MAGIC) {
            throw malformed(path, "magic", String.format("0x%08x is not QED's magic 0x%08x", magic, MAGIC));
        }
        QedHeader header = new QedHeader(
                Integer.toUnsignedLong(le.getInt(4)),
                Integer.toUnsignedLong(le.getInt(8)),
                Integer.toUnsignedLong(le.getInt(12)),
                le.getLong(16),
                le.getLong(24),
                le.getLong(32),
                le.getLong(40),
                le.getLong(48),
                Integer.toUnsignedLong(le.getInt(56)),
                Integer.toUnsignedLong(le.getInt(60)));
        header.validate(path, fileSizeBytes);
        return header;
    }

    private void validate(Path path, long fileSizeBytes) throws ImageFormatException {
        long unknown = features & ~KNOWN_FEATURES;
        if (unknown != 0) {
            throw new ImageFormatException(
                    Reason.UNSUPPORTED,
                    path,
                    "features",
                    String.format("unsupported QED feature bits 0x%x (features 0x%x)", unknown, features));
        }
        if (!isValidClusterSize(clusterSize)) {
            throw malformed(
                    path,
                    "cluster_size",
                    clusterSize + " is not a power of two in [" + MIN_CLUSTER_SIZE + ", " + MAX_CLUSTER_SIZE + "]");
        }
        if (!isValidTableSize(tableSize)) {
            throw malformed(
                    path,
                    "table_size",
                    tableSize + " is not a power of two in [" + MIN_TABLE_SIZE + ", " + MAX_TABLE_SIZE + "]");
        }
        if (!isValidImageSize(imageSize, clusterSize, tableSize)) {
            throw malformed(
                    path,
                    "image_size",
                    Long.toUnsignedString(imageSize) + " is not a multiple of " + SECTOR_BYTES + " up to "
                            + maxImageSize(clusterSize, tableSize));
        }
        if (headerSize == 0 || headerSize > 0xffff_ffffL / clusterSize) {
            throw malformed(
                    path,
                    "header_size",
                    headerSize + " clusters is not in [1, " + 0xffff_ffffL / clusterSize + "] at cluster size "
                            + clusterSize);
        }
        long fileClusterEnd = clusterEnd(fileSizeBytes, clusterSize);
        if (!isValidTableOffset(l1TableOffset, fileClusterEnd)) {
            throw malformed(
                    path,
                    "l1_table_offset",
                    Long.toUnsignedString(l1TableOffset) + " is not a cluster-aligned table of " + tableBytes()
                            + " bytes between the header (" + headerBytes() + " bytes) and the end of the file ("
                            + fileSizeBytes + " bytes)");
        }
        if (hasBackingFile()) {
            if (backingFilenameOffset + backingFilenameSize > headerBytes()) {
                throw malformed(
                        path,
                        "backing_filename_offset",
                        "backing file name at " + backingFilenameOffset + " of " + backingFilenameSize
                                + " bytes ends past the header clusters (" + headerBytes() + " bytes)");
            }
            if (backingFilenameSize == 0 || backingFilenameSize > MAX_BACKING_NAME_BYTES) {
                throw malformed(
                        path,
                        "backing_filename_size",
                        backingFilenameSize + " is not in [1, " + MAX_BACKING_NAME_BYTES + "]");
            }
            if (backingFilenameOffset + backingFilenameSize > fileSizeBytes) {
                throw malformed(
                        path,
                        "backing_filename_offset",
                        "backing file name ends past the end of the file (" + fileSizeBytes + " bytes)");
            }
        }
    }

    private static ImageFormatException malformed(Path path, String field, String detail) {
        return new ImageFormatException(Reason.MALFORMED, path, field, detail);
    }

    static boolean isValidClusterSize(long bytes) {
        return bytes >= MIN_CLUSTER_SIZE && bytes <= MAX_CLUSTER_SIZE && Alignment.isPowerOfTwo(bytes);
    }

    static boolean isValidTableSize(long clusters) {
        return clusters >= MIN_TABLE_SIZE && clusters <= MAX_TABLE_SIZE && Alignment.isPowerOfTwo(clusters);
    }

    static long maxImageSize(long clusterSize, long tableSize) {
        long entries = clusterSize * tableSize / Long.BYTES;
        // 64 MiB clusters and 16-cluster tables give 2^27 * 2^27 * 2^26: saturate rather than wrap
        try {
            return Math.multiplyExact(Math.multiplyExact(entries, entries), clusterSize);
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE;
        }
    }

    static boolean isValidImageSize(long bytes, long clusterSize, long tableSize) {
        return bytes >= 0 && bytes % SECTOR_BYTES == 0 && bytes <= maxImageSize(clusterSize, tableSize);
    }

    /** A fresh header for {@code create}. */
    static QedHeader forCreate(long clusterSize, long tableSize, long imageSize, int backingNameBytes, boolean raw) {
        long features = backingNameBytes > 0 ? F_BACKING_FILE | (raw ? F_BACKING_FORMAT_NO_PROBE : 0) : 0;
        // QEMU leaves the name's offset 0 when there is no name
        long nameOffset = backingNameBytes > 0 ? BYTES : 0;
        return new QedHeader(
                clusterSize, tableSize, 1, features, 0, 0, clusterSize, imageSize, nameOffset, backingNameBytes);
    }

    /** The 64 header bytes. */
    ByteBuffer encode() {
        ByteBuffer le = ByteBuffer.allocate(BYTES).order(ByteOrder.LITTLE_ENDIAN);
        le.putInt(MAGIC)
                .putInt((int) clusterSize)
                .putInt((int) tableSize)
                .putInt((int) headerSize)
                .putLong(features)
                .putLong(compatFeatures)
                .putLong(autoclearFeatures)
                .putLong(l1TableOffset)
                .putLong(imageSize)
                .putInt((int) backingFilenameOffset)
                .putInt((int) backingFilenameSize);
        return le.flip();
    }

    QedHeader withFeatures(long newFeatures) {
        return with(newFeatures, autoclearFeatures, backingFilenameOffset, backingFilenameSize);
    }

    QedHeader withAutoclearFeatures(long newAutoclear) {
        return with(features, newAutoclear, backingFilenameOffset, backingFilenameSize);
    }

    QedHeader withImageSize(long bytes) {
        return new QedHeader(
                clusterSize,
                tableSize,
                headerSize,
                features,
                compatFeatures,
                autoclearFeatures,
                l1TableOffset,
                bytes,
                backingFilenameOffset,
                backingFilenameSize);
    }

    /** The header naming a backing file of {@code nameBytes} right after the header (none if 0). */
    QedHeader withBackingName(long nameBytes, boolean raw) {
        long base = features & ~(F_BACKING_FILE | F_BACKING_FORMAT_NO_PROBE);
        long newFeatures = nameBytes == 0 ? base : base | F_BACKING_FILE | (raw ? F_BACKING_FORMAT_NO_PROBE : 0);
        return with(newFeatures, autoclearFeatures, BYTES, nameBytes);
    }

    private QedHeader with(long newFeatures, long newAutoclear, long nameOffset, long nameBytes) {
        return new QedHeader(
                clusterSize,
                tableSize,
                headerSize,
                newFeatures,
                compatFeatures,
                newAutoclear,
                l1TableOffset,
                imageSize,
                nameOffset,
                nameBytes);
    }

    boolean hasBackingFile() {
        return (features & F_BACKING_FILE) != 0;
    }

    boolean needsCheck() {
        return (features & F_NEED_CHECK) != 0;
    }

    boolean backingIsRaw() {
        return (features & F_BACKING_FORMAT_NO_PROBE) != 0;
    }

    /** Bytes of the header clusters. */
    long headerBytes() {
        return headerSize * clusterSize;
    }

    /** Bytes of one L1 or L2 table. */
    int tableBytes() {
        return (int) (clusterSize * tableSize);
    }

    /** Entries of one L1 or L2 table. */
    int tableEntries() {
        return tableBytes() / Long.BYTES;
    }

    int l2Shift() {
        return Long.numberOfTrailingZeros(clusterSize);
    }

    int l1Shift() {
        return l2Shift() + Integer.numberOfTrailingZeros(tableEntries());
    }

    /** Guest bytes one L2 table maps. */
    long l2CoverageBytes() {
        return 1L << l1Shift();
    }

    int l1Index(long guestOffset) {
        return (int) (guestOffset >>> l1Shift());
    }

    int l2Index(long guestOffset) {
        return (int) ((guestOffset >>> l2Shift()) & (tableEntries() - 1));
    }

    long offsetInCluster(long offset) {
        return offset & (clusterSize - 1);
    }

    /**
     * Where the clusters of a file of {@code fileSizeBytes} end as QEMU sees them: its block layer
     * counts whole 512-byte sectors, rounding the file's length up, and QED rounds that down to a
     * cluster. So a file one byte short of its last cluster still holds that cluster (the missing
     * byte reads as zero), as qemu-img check and qemu-io agree.
     */
    static long clusterEnd(long fileSizeBytes, long clusterSize) {
        return Alignment.alignDown(Alignment.alignUp(fileSizeBytes, SECTOR_BYTES), clusterSize);
    }

    /**
     * Whether a data cluster may start at {@code offset} in a file whose whole clusters end at
     * {@code fileClusterEnd}: aligned, after the header, before the end.
     */
    boolean isValidClusterOffset(long offset, long fileClusterEnd) {
        return offset >= headerBytes() && offset < fileClusterEnd && offsetInCluster(offset) == 0;
    }

    /** Whether a whole table fits at {@code offset}. */
    boolean isValidTableOffset(long offset, long fileClusterEnd) {
        if (!isValidClusterOffset(offset, fileClusterEnd)) {
            return false;
        }
        long last = offset + (tableSize - 1) * clusterSize;
        return last >= offset && isValidClusterOffset(last, fileClusterEnd);
    }
}
