package io.siphon.format.qcow2;

import io.siphon.format.ImageFile;
import io.siphon.format.ImageFormatException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The qcow2 header in the first cluster: the fixed fields (72 bytes for version 2, {@code
 * header_length} for version 3), the header extensions after it and the backing file name after
 * those. Immutable; every field is validated by {@link #read}. Spec: QEMU docs/interop/qcow2.txt,
 * "Header" and "Header extensions".
 */
record Qcow2Header(
        int version,
        int clusterBits,
        long sizeBytes,
        int cryptMethod,
        int l1Size,
        long l1TableOffset,
        long refcountTableOffset,
        int refcountTableClusters,
        int nbSnapshots,
        long snapshotsOffset,
        long incompatibleFeatures,
        long compatibleFeatures,
        long autoclearFeatures,
        int refcountOrder,
        byte[] additionalFields,
        Optional<String> backingFile,
        Optional<String> backingFormat,
        List<HeaderExtension> otherExtensions) {
    static final int MAGIC = 0x514649fb;
    static final int V2_LENGTH = 72;
    static final int V3_MIN_LENGTH = 104;
    /** The header length QEMU 7.2 writes: through compression_type, padded to 8. */
    static final int V3_LENGTH = 112;

    static final long INCOMPAT_DIRTY = 1;
    static final long INCOMPAT_CORRUPT = 1 << 1;
    static final long INCOMPAT_EXTERNAL_DATA = 1 << 2;
    static final long INCOMPAT_COMPRESSION_TYPE = 1 << 3;
    static final long INCOMPAT_EXTENDED_L2 = 1 << 4;
    static final long INCOMPAT_KNOWN = (1 << 5) - 1;
    static final long COMPAT_LAZY_REFCOUNTS = 1;

    static final int COMPRESSION_ZLIB = 0;
    static final int COMPRESSION_ZSTD = 1;

    static final int MAX_BACKING_NAME_BYTES = 1023;
    static final int MAX_BACKING_FORMAT_BYTES = 15;
    /** QEMU's limits: 32 MiB of L1 table, 8 MiB of refcount table, 65536 snapshots. */
    static final long MAX_L1_BYTES = 32L << 20;

    static final long MAX_REFCOUNT_TABLE_BYTES = 8L << 20;
    static final int MAX_SNAPSHOTS = 65536;

    Qcow2Header {
        additionalFields = additionalFields.clone();
        otherExtensions = List.copyOf(otherExtensions);
    }

    Geometry geometry() {
        return new Geometry(clusterBits, refcountOrder, (incompatibleFeatures & INCOMPAT_EXTENDED_L2) != 0);
    }

    int clusterSize() {
        return 1 << clusterBits;
    }

    int headerLength() {
        return version == 2 ? V2_LENGTH : V3_MIN_LENGTH + additionalFields.length;
    }

    int compressionType() {
        return additionalFields.length > 0 ? additionalFields[0] & 0xff : COMPRESSION_ZLIB;
    }

    boolean isDirty() {
        return (incompatibleFeatures & INCOMPAT_DIRTY) != 0;
    }

    boolean isCorrupt() {
        return (incompatibleFeatures & INCOMPAT_CORRUPT) != 0;
    }

    boolean lazyRefcounts() {
        return (compatibleFeatures & COMPAT_LAZY_REFCOUNTS) != 0;
    }

    long refcountTableBytes() {
        return (long) refcountTableClusters << clusterBits;
    }

    Optional<byte[]> featureTable() {
        return otherExtensions.stream()
                .filter(e -> e.type() == HeaderExtension.FEATURE_TABLE)
                .map(HeaderExtension::data)
                .findFirst();
    }

    Qcow2Header withIncompatibleFeatures(long bits) {
        return with(h -> h.incompatibleFeatures = bits);
    }

    Qcow2Header withAutoclearFeatures(long bits) {
        return with(h -> h.autoclearFeatures = bits);
    }

    Qcow2Header withL1(long offset, int size) {
        return with(h -> {
            h.l1TableOffset = offset;
            h.l1Size = size;
        });
    }

    Qcow2Header withSnapshots(int count, long tableOffset) {
        return with(h -> {
            h.nbSnapshots = count;
            h.snapshotsOffset = tableOffset;
        });
    }

    Qcow2Header withSize(long newSizeBytes) {
        return with(h -> h.sizeBytes = newSizeBytes);
    }

    Qcow2Header withRefcountTable(long offset, int clusters) {
        return with(h -> {
            h.refcountTableOffset = offset;
            h.refcountTableClusters = clusters;
        });
    }

    /** Other refcount structures: entries of 2^{@code order} bits, the table at {@code offset}. */
    Qcow2Header withRefcounts(int order, long offset, int clusters) {
        return with(h -> {
            h.refcountOrder = order;
            h.refcountTableOffset = offset;
            h.refcountTableClusters = clusters;
        });
    }

    Qcow2Header withBacking(Optional<String> file, Optional<String> format) {
        return with(h -> {
            h.backingFile = file;
            h.backingFormat = format;
        });
    }

    /**
     * This header as version {@code target} writes it, as QEMU's qcow2_update_header after amend's
     * upgrade or downgrade: version 3 with the 112-byte header (compression type zlib) and, for
     * clusters of 8 KiB and more, the feature name table; version 2 with the 72-byte header and no
     * feature bits or feature name table. The caller has checked that the image allows it.
     */
    Qcow2Header withCompat(int target) {
        List<HeaderExtension> kept = otherExtensions.stream()
                .filter(e -> e.type() != HeaderExtension.FEATURE_TABLE)
                .collect(java.util.stream.Collectors.toCollection(ArrayList::new));
        if (target >= 3 && clusterSize() >= 8192) {
            kept.addFirst(new HeaderExtension(HeaderExtension.FEATURE_TABLE, FeatureNameTable.standard()));
        }
        return with(h -> {
            h.version = target;
            h.additionalFields = target >= 3 ? new byte[V3_LENGTH - V3_MIN_LENGTH] : new byte[0];
            if (target < 3) {
                h.incompatibleFeatures = 0;
                h.compatibleFeatures = 0;
                h.autoclearFeatures = 0;
            }
            h.otherExtensions = kept;
        });
    }

    Qcow2Header withCompatibleFeatures(long bits) {
        return with(h -> h.compatibleFeatures = bits);
    }

    /** A copy of this header with the fields {@code change} sets replaced. */
    private Qcow2Header with(Consumer<Fields> change) {
        Fields fields = new Fields(this);
        change.accept(fields);
        return fields.header();
    }

    /** The fields of a header being copied, so that each wither names only what it changes. */
    private static final class Fields {
        int version;
        int clusterBits;
        long sizeBytes;
        int cryptMethod;
        int l1Size;
        long l1TableOffset;
        long refcountTableOffset;
        int refcountTableClusters;
        int nbSnapshots;
        long snapshotsOffset;
        long incompatibleFeatures;
        long compatibleFeatures;
        long autoclearFeatures;
        int refcountOrder;
        byte[] additionalFields;
        Optional<String> backingFile;
        Optional<String> backingFormat;
        List<HeaderExtension> otherExtensions;

        Fields(Qcow2Header from) {
            version = from.version;
            clusterBits = from.clusterBits;
            sizeBytes = from.sizeBytes;
            cryptMethod = from.cryptMethod;
            l1Size = from.l1Size;
            l1TableOffset = from.l1TableOffset;
            refcountTableOffset = from.refcountTableOffset;
            refcountTableClusters = from.refcountTableClusters;
            nbSnapshots = from.nbSnapshots;
            snapshotsOffset = from.snapshotsOffset;
            incompatibleFeatures = from.incompatibleFeatures;
            compatibleFeatures = from.compatibleFeatures;
            autoclearFeatures = from.autoclearFeatures;
            refcountOrder = from.refcountOrder;
            additionalFields = from.additionalFields;
            backingFile = from.backingFile;
            backingFormat = from.backingFormat;
            otherExtensions = from.otherExtensions;
        }

        Qcow2Header header() {
            return new Qcow2Header(
                    version,
                    clusterBits,
                    sizeBytes,
                    cryptMethod,
                    l1Size,
                    l1TableOffset,
                    refcountTableOffset,
                    refcountTableClusters,
                    nbSnapshots,
                    snapshotsOffset,
                    incompatibleFeatures,
                    compatibleFeatures,
                    autoclearFeatures,
                    refcountOrder,
                    additionalFields,
                    backingFile,
                    backingFormat,
                    otherExtensions);
        }
    }

    /**
     * The first cluster as it is to be written: header, extensions (backing format first), end
     * marker, backing file name. Fails when it does not fit in one cluster.
     */
    byte[] encode(Path file) throws ImageFormatException {
        List<HeaderExtension> extensions = new ArrayList<>();
        backingFormat.ifPresent(f -> extensions.add(new HeaderExtension(HeaderExtension.BACKING_FORMAT, ascii(f))));
        extensions.addAll(otherExtensions);
        int length = headerLength();
        for (HeaderExtension extension : extensions) {
            length += extension.encodedLength();
        }
        length += 8;
        byte[] name = backingFile.map(Qcow2Header::utf8).orElse(new byte[0]);
        if (length + name.length > clusterSize()) {
            throw Errors.refused(
                    file,
                    "backing_file_offset",
                    "header, extensions and backing file name take " + (length + name.length)
                            + " bytes, more than the first cluster of " + clusterSize() + " bytes");
        }
        ByteBuffer out = ByteBuffer.allocate(clusterSize());
        out.putInt(MAGIC).putInt(version);
        out.putLong(backingFile.isPresent() ? length : 0).putInt(name.length);
        out.putInt(clusterBits).putLong(sizeBytes).putInt(cryptMethod).putInt(l1Size);
        out.putLong(l1TableOffset).putLong(refcountTableOffset).putInt(refcountTableClusters);
        out.putInt(nbSnapshots).putLong(snapshotsOffset);
        if (version >= 3) {
            out.putLong(incompatibleFeatures).putLong(compatibleFeatures).putLong(autoclearFeatures);
            out.putInt(refcountOrder).putInt(headerLength());
            out.put(additionalFields);
        }
        for (HeaderExtension extension : extensions) {
            int start = out.position();
            byte[] data = extension.data();
            out.putInt(extension.type()).putInt(data.length).put(data);
            out.position(start + extension.encodedLength());
        }
        out.putLong(0); // end of the extension area
        out.put(name);
        return out.array();
    }

    /** Reads and validates the header of {@code file}. */
    static Qcow2Header read(ImageFile file) throws IOException {
        Path path = file.path();
        long fileSize = file.sizeBytes();
        if (fileSize < V2_LENGTH) {
            throw Errors.malformed(path, "header", "file of " + fileSize + " bytes is shorter than a qcow2 header");
        }
        ByteBuffer fixed = ByteBuffer.allocate((int) Math.min(fileSize, V3_MIN_LENGTH));
        file.readFully(0, fixed);
        fixed.flip();
        int magic = fixed.getInt(0);
        if (magic != MAGIC) {
            throw Errors.malformed(path, "magic", "not a qcow2 image (magic " + Errors.hex(magic & 0xffffffffL) + ")");
        }
        int version = fixed.getInt(4);
        if (version != 2 && version != 3) {
            throw Errors.unsupported(path, "version", "qcow2 version " + version + " (supported: 2, 3)");
        }
        int clusterBits = fixed.getInt(20);
        if (clusterBits < Geometry.MIN_CLUSTER_BITS || clusterBits > Geometry.MAX_CLUSTER_BITS) {
            throw Errors.malformed(path, "cluster_bits", clusterBits + " is outside 9..21 (512 B to 2 MiB)");
        }
        int clusterSize = 1 << clusterBits;
        int headerLength = V2_LENGTH;
        long incompatible = 0;
        long compatible = 0;
        long autoclear = 0;
        int refcountOrder = 4;
        if (version == 3) {
            if (fileSize < V3_MIN_LENGTH) {
                throw Errors.malformed(path, "header", "file of " + fileSize + " bytes is shorter than a v3 header");
            }
            incompatible = fixed.getLong(72);
            compatible = fixed.getLong(80);
            autoclear = fixed.getLong(88);
            refcountOrder = fixed.getInt(96);
            headerLength = fixed.getInt(100);
            if (headerLength < V3_MIN_LENGTH || headerLength % 8 != 0 || headerLength > clusterSize) {
                throw Errors.malformed(
                        path,
                        "header_length",
                        headerLength + " (must be a multiple of 8 from 104 to the cluster size " + clusterSize + ")");
            }
            if (refcountOrder < 0 || refcountOrder > Geometry.MAX_REFCOUNT_ORDER) {
                throw Errors.malformed(path, "refcount_order", refcountOrder + " is outside 0..6");
            }
        }
        ByteBuffer first = ByteBuffer.allocate((int) Math.min(fileSize, clusterSize));
        file.readFully(0, first);
        first.flip();
        byte[] additional = new byte[headerLength - (version == 2 ? V2_LENGTH : V3_MIN_LENGTH)];
        if (version == 3) {
            if (first.limit() < headerLength) {
                throw Errors.malformed(path, "header_length", headerLength + " reaches past the end of the file");
            }
            first.get(V3_MIN_LENGTH, additional);
        }
        long backingOffset = first.getLong(8);
        int backingSize = first.getInt(16);
        long size = first.getLong(24);
        int cryptMethod = first.getInt(32);
        int l1Size = first.getInt(36);
        long l1Offset = first.getLong(40);
        long refcountTableOffset = first.getLong(48);
        int refcountTableClusters = first.getInt(56);
        int nbSnapshots = first.getInt(60);
        long snapshotsOffset = first.getLong(64);

        long extensionsEnd = clusterSize;
        Optional<String> backingFile = Optional.empty();
        if (backingOffset != 0) {
            if (backingSize < 0 || backingSize > MAX_BACKING_NAME_BYTES) {
                throw Errors.malformed(
                        path, "backing_file_size", (backingSize & 0xffffffffL) + " is longer than 1023 bytes");
            }
            if (backingOffset < headerLength || backingOffset > clusterSize - backingSize) {
                throw Errors.malformed(
                        path,
                        "backing_file_offset",
                        backingOffset + " (name of " + backingSize + " bytes must lie in the first cluster, after "
                                + "the header)");
            }
            if (backingOffset + backingSize > first.limit()) {
                throw Errors.malformed(path, "backing_file_offset", backingOffset + " is past the end of the file");
            }
            byte[] name = new byte[backingSize];
            first.get((int) backingOffset, name);
            if (backingSize == 0) {
                throw Errors.malformed(path, "backing_file_size", "0 with a backing file offset of " + backingOffset);
            }
            backingFile = Optional.of(new String(name, StandardCharsets.UTF_8));
            extensionsEnd = backingOffset;
        }

        Optional<String> backingFormat = Optional.empty();
        List<HeaderExtension> others = new ArrayList<>();
        int at = headerLength;
        while (at + 8 <= Math.min(extensionsEnd, first.limit())) {
            int type = first.getInt(at);
            long length = first.getInt(at + 4) & 0xffffffffL;
            if (type == HeaderExtension.END) {
                break;
            }
            if (at + 8 + length > Math.min(extensionsEnd, first.limit())) {
                throw Errors.malformed(
                        path,
                        "header extension " + Errors.hex(type & 0xffffffffL),
                        "length " + length + " at offset " + at + " runs past the extension area");
            }
            byte[] data = new byte[(int) length];
            first.get(at + 8, data);
            if (type == HeaderExtension.BACKING_FORMAT) {
                if (length > MAX_BACKING_FORMAT_BYTES) {
                    throw Errors.malformed(path, "backing format extension", "length " + length + " is too long");
                }
                backingFormat = Optional.of(new String(data, StandardCharsets.US_ASCII));
            } else {
                others.add(new HeaderExtension(type, data));
            }
            at += (int) (8 + ((length + 7) & ~7L));
        }

        Qcow2Header header = new Qcow2Header(
                version,
                clusterBits,
                size,
                cryptMethod,
                l1Size,
                l1Offset,
                refcountTableOffset,
                refcountTableClusters,
                nbSnapshots,
                snapshotsOffset,
                incompatible,
                compatible,
                autoclear,
                refcountOrder,
                additional,
                backingFile,
                backingFormat,
                others);
        header.validate(path, fileSize);
        return header;
    }

    private void validate(Path path, long fileSize) throws ImageFormatException {
        long unknown = incompatibleFeatures & ~INCOMPAT_KNOWN;
        if (unknown != 0) {
            int bit = Long.numberOfTrailingZeros(unknown);
            String name = featureTable()
                    .flatMap(t -> FeatureNameTable.nameOf(t, FeatureNameTable.INCOMPATIBLE, bit))
                    .map(n -> " (" + n + ")")
                    .orElse("");
            throw Errors.unsupported(
                    path, "incompatible_features", "unknown incompatible feature bit " + bit + name + " is set");
        }
        if ((incompatibleFeatures & INCOMPAT_EXTERNAL_DATA) != 0) {
            throw Errors.unsupported(path, "incompatible_features", "external data file (bit 2) is not supported");
        }
        if ((incompatibleFeatures & INCOMPAT_EXTENDED_L2) != 0 && clusterBits < Geometry.MIN_EXTENDED_L2_CLUSTER_BITS) {
            throw Errors.unsupported(
                    path,
                    "cluster_bits",
                    "unsupported subcluster size: " + (clusterSize() / Geometry.SUBCLUSTERS)
                            + " bytes (extended L2 entries need clusters of at least 16 KiB)");
        }
        boolean typeBit = (incompatibleFeatures & INCOMPAT_COMPRESSION_TYPE) != 0;
        int compression = compressionType();
        if (typeBit != (compression != COMPRESSION_ZLIB) || compression > COMPRESSION_ZSTD) {
            throw Errors.malformed(
                    path,
                    "compression_type",
                    compression + " with the compression type feature bit " + (typeBit ? "set" : "clear"));
        }
        if (cryptMethod != 0) {
            throw cryptMethod == 1 || cryptMethod == 2
                    ? Errors.unsupported(
                            path, "crypt_method", "encrypted images (" + cryptMethod + ") are not supported")
                    : Errors.malformed(path, "crypt_method", cryptMethod + " is not 0, 1 or 2");
        }
        if (sizeBytes < 0 || sizeBytes > (Long.MAX_VALUE >> 1)) {
            throw Errors.malformed(path, "size", Long.toUnsignedString(sizeBytes) + " is too large");
        }
        Geometry geometry = geometry();
        long l1Bytes = (l1Size & 0xffffffffL) * 8;
        if (l1Size < 0 || l1Bytes > MAX_L1_BYTES) {
            throw Errors.malformed(path, "l1_size", (l1Size & 0xffffffffL) + " entries exceed the 32 MiB L1 limit");
        }
        if (l1Size < geometry.l1EntriesFor(sizeBytes)) {
            throw Errors.malformed(
                    path, "l1_size", l1Size + " entries cannot map a virtual size of " + sizeBytes + " bytes");
        }
        requireTable(path, "l1_table_offset", l1TableOffset, l1Bytes, fileSize);
        if (refcountTableClusters <= 0 || refcountTableBytes() > MAX_REFCOUNT_TABLE_BYTES) {
            throw Errors.malformed(
                    path,
                    "refcount_table_clusters",
                    (refcountTableClusters & 0xffffffffL) + " (must be 1 to "
                            + (MAX_REFCOUNT_TABLE_BYTES >> clusterBits) + ")");
        }
        requireTable(path, "refcount_table_offset", refcountTableOffset, refcountTableBytes(), fileSize);
        if (l1Bytes > 0 && overlaps(l1TableOffset, l1Bytes, refcountTableOffset, refcountTableBytes())) {
            throw Errors.malformed(
                    path, "refcount_table_offset", refcountTableOffset + " overlaps the L1 table at " + l1TableOffset);
        }
        if (nbSnapshots < 0 || nbSnapshots > MAX_SNAPSHOTS) {
            throw Errors.malformed(path, "nb_snapshots", (nbSnapshots & 0xffffffffL) + " exceeds 65536");
        }
        if (nbSnapshots > 0
                && (snapshotsOffset <= 0
                        || (snapshotsOffset & (clusterSize() - 1)) != 0
                        || snapshotsOffset >= fileSize)) {
            throw Errors.malformed(path, "snapshots_offset", snapshotsOffset + " is unaligned or outside the file");
        }
    }

    private void requireTable(Path path, String field, long offset, long bytes, long fileSize)
            throws ImageFormatException {
        if (bytes == 0 && offset == 0) {
            return;
        }
        if (offset <= 0 || (offset & (clusterSize() - 1)) != 0) {
            throw Errors.malformed(path, field, offset + " is not a cluster-aligned offset after the header");
        }
        if (offset > fileSize || bytes > fileSize - offset) {
            throw Errors.malformed(
                    path,
                    field,
                    offset + " + " + bytes + " bytes is past the end of the file (" + fileSize + " bytes)");
        }
    }

    static boolean overlaps(long aOffset, long aBytes, long bOffset, long bBytes) {
        return aOffset < bOffset + bBytes && bOffset < aOffset + aBytes;
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public boolean equals(Object o) {
        return this == o;
    }

    @Override
    public int hashCode() {
        return System.identityHashCode(this);
    }

    @Override
    public String toString() {
        return "Qcow2Header[v" + version + ", cluster_bits " + clusterBits + ", size " + sizeBytes + "]";
    }
}
