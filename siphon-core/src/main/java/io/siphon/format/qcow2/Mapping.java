package io.siphon.format.qcow2;

import io.siphon.block.Allocation;
import io.siphon.block.Extent;

/**
 * A run of guest bytes, inside one L2 table, whose clusters have the same kind (and, for data,
 * contiguous host clusters).
 *
 * @param hostOffset host offset of {@code guestOffset}'s byte, or -1 for kinds without one (an
 *     unallocated subcluster of a cluster with a host offset has one: QEMU's UNALLOCATED_ALLOC)
 * @param entry the L2 entry of the first cluster (for compressed clusters, the descriptor)
 */
record Mapping(L2Entry.Kind kind, long guestOffset, long length, long hostOffset, long entry) {
    long end() {
        return guestOffset + length;
    }

    boolean writableInPlace() {
        return kind == L2Entry.Kind.DATA && L2Entry.copied(entry);
    }

    /**
     * The run as block status reports it (compressed clusters are data without a host offset;
     * unallocated subclusters of an allocated cluster keep theirs, as qemu-img map shows them).
     */
    Extent extent() {
        return switch (kind) {
            case DATA -> new Extent(guestOffset, length, Allocation.DATA, hostOffset);
            case COMPRESSED -> new Extent(guestOffset, length, Allocation.DATA);
            case ZERO_ALLOC -> new Extent(guestOffset, length, Allocation.ZERO, hostOffset);
            case ZERO_PLAIN -> new Extent(guestOffset, length, Allocation.ZERO);
            case UNALLOCATED -> new Extent(guestOffset, length, Allocation.UNALLOCATED, hostOffset);
        };
    }
}
