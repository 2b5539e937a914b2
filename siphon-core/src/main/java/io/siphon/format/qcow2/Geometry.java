package io.siphon.format.qcow2;

/**
 * The sizes every qcow2 structure is derived from: cluster size, table entry counts and the
 * compressed-descriptor bit layout. Immutable.
 */
record Geometry(int clusterBits, int refcountOrder) {
    static final int MIN_CLUSTER_BITS = 9;
    static final int MAX_CLUSTER_BITS = 21;
    static final int MAX_REFCOUNT_ORDER = 6;

    int clusterSize() {
        return 1 << clusterBits;
    }

    /** Entries in one L2 table (standard, 8-byte entries). */
    int l2Entries() {
        return clusterSize() / 8;
    }

    int refcountBits() {
        return 1 << refcountOrder;
    }

    /** Clusters whose refcounts one refcount block holds. */
    long refcountBlockEntries() {
        return (long) clusterSize() * 8 / refcountBits();
    }

    /** Largest refcount one entry can hold. */
    long maxRefcount() {
        return refcountBits() == 64 ? -1L >>> 1 : (1L << refcountBits()) - 1;
    }

    long clusterOffset(long offsetBytes) {
        return offsetBytes & -(long) clusterSize();
    }

    int offsetInCluster(long offsetBytes) {
        return (int) (offsetBytes & (clusterSize() - 1));
    }

    long clusterIndex(long offsetBytes) {
        return offsetBytes >>> clusterBits;
    }

    /** Clusters needed to hold {@code bytes}. */
    long clustersFor(long bytes) {
        return (bytes + clusterSize() - 1) >>> clusterBits;
    }

    /** Bit where the compressed descriptor's sector count starts. */
    int compressedSizeShift() {
        return 62 - (clusterBits - 8);
    }

    long compressedOffsetMask() {
        return (1L << compressedSizeShift()) - 1;
    }

    long compressedSectorsMask() {
        return (1L << (clusterBits - 8)) - 1;
    }

    /** L1 entries needed for a virtual disk of {@code sizeBytes}. */
    long l1EntriesFor(long sizeBytes) {
        long clusters = clustersFor(sizeBytes);
        return (clusters + l2Entries() - 1) / l2Entries();
    }
}
