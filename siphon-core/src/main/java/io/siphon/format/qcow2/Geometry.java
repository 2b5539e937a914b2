package io.siphon.format.qcow2;

/**
 * The sizes every qcow2 structure is derived from: cluster size, table entry counts, subclusters
 * (extended L2 entries) and the compressed-descriptor bit layout. Immutable.
 *
 * @param extendedL2 whether L2 entries are 16 bytes with a subcluster bitmap (incompatible bit 4)
 */
record Geometry(int clusterBits, int refcountOrder, boolean extendedL2) {
    static final int MIN_CLUSTER_BITS = 9;
    /** Subclusters per cluster with extended L2 entries. */
    static final int SUBCLUSTERS = 32;
    /** QEMU's smallest cluster with extended L2 entries: 32 subclusters of one sector each. */
    static final int MIN_EXTENDED_L2_CLUSTER_BITS = MIN_CLUSTER_BITS + 5;

    static final int MAX_CLUSTER_BITS = 21;
    static final int MAX_REFCOUNT_ORDER = 6;

    int clusterSize() {
        return 1 << clusterBits;
    }

    /** Bytes of one L2 entry: 8, or 16 with extended L2 entries (descriptor, then bitmap). */
    int l2EntryBytes() {
        return extendedL2 ? 16 : 8;
    }

    /** Entries in one L2 table. */
    int l2Entries() {
        return clusterSize() / l2EntryBytes();
    }

    /** The unit of allocation status: a subcluster with extended L2 entries, else the cluster. */
    int subclusterBits() {
        return extendedL2 ? clusterBits - 5 : clusterBits;
    }

    int subclusterSize() {
        return 1 << subclusterBits();
    }

    /** Index of the subcluster holding {@code offsetBytes} within its cluster. */
    int subclusterIndex(long offsetBytes) {
        return offsetInCluster(offsetBytes) >>> subclusterBits();
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
