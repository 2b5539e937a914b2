package io.siphon.format.qed;

/**
 * Where new clusters go: QED has no free-space map, so every allocation appends whole clusters
 * at the end of the file (QEMU's qed_alloc_clusters). A crash between the append and the table
 * update leaves a leak at the tail, which a repair trims. Not thread-safe: the image guards it
 * with its table lock.
 */
final class QedAllocator {
    private final long clusterSize;
    private long endBytes;

    /**
     * Starts after the file's last cluster as QEMU counts them ({@link QedHeader#clusterEnd}); a
     * partial cluster at the end is overwritten.
     */
    QedAllocator(long clusterSize, long fileSizeBytes) {
        this.clusterSize = clusterSize;
        this.endBytes = QedHeader.clusterEnd(fileSizeBytes, clusterSize);
    }

    /** The offset of {@code count} new contiguous clusters. */
    long allocate(int count) {
        long offset = endBytes;
        endBytes = Math.addExact(endBytes, count * clusterSize);
        return offset;
    }

    /** The end of the last whole cluster: offsets at or past it are invalid in tables. */
    long endBytes() {
        return endBytes;
    }

    /** After the file was cut to {@code newEndBytes} (a cluster boundary). */
    void truncatedTo(long newEndBytes) {
        endBytes = newEndBytes;
    }
}
