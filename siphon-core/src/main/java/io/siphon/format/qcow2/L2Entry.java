package io.siphon.format.qcow2;

import java.nio.ByteBuffer;
import java.util.Optional;

/**
 * An L2 table entry: bit 63 "refcount is exactly one", bit 62 compressed, bits 9-55 the host
 * cluster offset, bit 0 "reads as zeroes" (version 3, standard entries only). An extended entry
 * (QEMU's qcow2.txt, "Extended L2 Entries") adds a 64-bit subcluster bitmap: bit {@code i}
 * (0-31) "subcluster i is allocated", bit {@code 32 + i} "subcluster i reads as zeroes".
 */
final class L2Entry {
    static final long COPIED = 1L << 63;
    static final long COMPRESSED = 1L << 62;
    static final long ZERO = 1;
    static final long OFFSET_MASK = 0x00fffffffffffe00L;
    /** Bits a standard (not compressed) entry must leave clear: 1-8 and 56-61 (QEMU's L2E_STD_RESERVED_MASK). */
    static final long STD_RESERVED_MASK = 0x3f000000000001feL;

    /** What a guest cluster holds, from its L2 entry. */
    enum Kind {
        UNALLOCATED,
        ZERO_PLAIN,
        ZERO_ALLOC,
        DATA,
        COMPRESSED
    }

    /** Bitmap of a cluster whose subclusters are all allocated. */
    static final long ALL_ALLOCATED = 0xffffffffL;
    /** Bitmap of a cluster whose subclusters all read as zeroes. */
    static final long ALL_ZEROES = 0xffffffff00000000L;

    private L2Entry() {}

    /** Entry {@code index} of an L2 table (its descriptor, for extended entries). */
    static long read(ByteBuffer table, Geometry geometry, int index) {
        return table.getLong(index * geometry.l2EntryBytes());
    }

    /** The subcluster bitmap of entry {@code index}; 0 for standard entries. */
    static long bitmap(ByteBuffer table, Geometry geometry, int index) {
        return geometry.extendedL2() ? table.getLong(index * 16 + 8) : 0;
    }

    /** Stores entry {@code index}, and its bitmap for extended entries. */
    static void write(ByteBuffer table, Geometry geometry, int index, long entry, long bitmap) {
        table.putLong(index * geometry.l2EntryBytes(), entry);
        if (geometry.extendedL2()) {
            table.putLong(index * 16 + 8, bitmap);
        }
    }

    /** Allocation bits of subclusters {@code [from, to)}; shifted left by 32, their zero bits. */
    static long allocatedRange(int from, int to) {
        return (to >= 32 ? ALL_ALLOCATED : (1L << to) - 1) & ~((1L << from) - 1);
    }

    static long zeroRange(int from, int to) {
        return allocatedRange(from, to) << 32;
    }

    /** The cluster's kind; with extended entries, bit 0 is reserved and the bitmap says what reads as zeroes. */
    static Kind kind(long entry, boolean extended) {
        return kind(extended ? entry & ~ZERO : entry);
    }

    /**
     * What subcluster {@code index} of an extended entry holds, the entry and bitmap being valid
     * ({@link #bitmapProblem} is empty): DATA, ZERO_ALLOC or UNALLOCATED where the cluster has a
     * host offset, ZERO_PLAIN or UNALLOCATED where it has none, COMPRESSED for the whole cluster.
     */
    static Kind subclusterKind(long entry, long bitmap, int index) {
        Kind cluster = kind(entry, true);
        if (cluster == Kind.COMPRESSED) {
            return cluster;
        }
        boolean hasHost = cluster == Kind.DATA;
        if ((bitmap & (1L << (32 + index))) != 0) {
            return hasHost ? Kind.ZERO_ALLOC : Kind.ZERO_PLAIN;
        }
        return hasHost && (bitmap & (1L << index)) != 0 ? Kind.DATA : Kind.UNALLOCATED;
    }

    /**
     * What is wrong with an extended entry's bitmap, in qemu-img check's words, if anything: a
     * compressed cluster must have none, an unallocated one no allocated subcluster, and no
     * subcluster may be both allocated and zero.
     */
    static Optional<String> bitmapProblem(long entry, long bitmap) {
        return switch (kind(entry, true)) {
            case COMPRESSED ->
                bitmap != 0
                        ? Optional.of("compressed cluster with non-zero subcluster allocation bitmap")
                        : Optional.empty();
            case UNALLOCATED ->
                (bitmap & ALL_ALLOCATED) != 0
                        ? Optional.of("unallocated cluster has non-zero subcluster allocation map")
                        : Optional.empty();
            default ->
                ((bitmap >>> 32) & bitmap) != 0
                        ? Optional.of("allocated cluster has corrupted subcluster allocation bitmap"
                                + " (subclusters both allocated and zero)")
                        : Optional.empty();
        };
    }

    static Kind kind(long entry) {
        if ((entry & COMPRESSED) != 0) {
            return Kind.COMPRESSED;
        }
        boolean hasOffset = (entry & OFFSET_MASK) != 0;
        if ((entry & ZERO) != 0) {
            return hasOffset ? Kind.ZERO_ALLOC : Kind.ZERO_PLAIN;
        }
        return hasOffset ? Kind.DATA : Kind.UNALLOCATED;
    }

    static long offset(long entry) {
        return entry & OFFSET_MASK;
    }

    static boolean copied(long entry) {
        return (entry & COPIED) != 0;
    }
}
