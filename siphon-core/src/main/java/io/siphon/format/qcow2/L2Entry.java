package io.siphon.format.qcow2;

/**
 * A standard (8-byte) L2 table entry: bit 63 "refcount is exactly one", bit 62 compressed, bits
 * 9-55 the host cluster offset, bit 0 "reads as zeroes" (version 3).
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

    private L2Entry() {}

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
