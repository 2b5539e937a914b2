package io.siphon.bench;

/**
 * One I/O pattern, run the same way by Siphon and by {@code qemu-img bench}: request {@code i} (from
 * 0 to {@code count - 1}) goes to offset {@code (i * stepBytes) mod imageSize}, which is the offset
 * sequence qemu-img bench 7.2 issues for {@code -s blockBytes -S stepBytes}.
 *
 * @param name what a reader of the table sees
 * @param blockBytes bytes per request
 * @param stepBytes distance between consecutive requests' offsets
 * @param count requests per run
 * @param write writes (true) or reads (false)
 */
record Workload(String name, int blockBytes, long stepBytes, long count, boolean write) {
    /** qemu-img bench has no random pattern; a large odd stride scatters 4 KiB requests over the file. */
    static final long SCATTER_STRIDE_BLOCKS = 7919;

    Workload {
        if (blockBytes <= 0 || stepBytes <= 0 || count <= 0) {
            throw new IllegalArgumentException("bad workload " + name);
        }
    }

    static Workload sequential(int blockBytes, long count, boolean write) {
        return new Workload(
                (write ? "seq write " : "seq read ") + blockBytes / 1024 + "k", blockBytes, blockBytes, count, write);
    }

    static Workload scattered(int blockBytes, long count, boolean write) {
        return new Workload(
                (write ? "scattered write " : "scattered read ") + blockBytes / 1024 + "k",
                blockBytes,
                blockBytes * SCATTER_STRIDE_BLOCKS,
                count,
                write);
    }

    /** Offset of request {@code index} in an image of {@code imageBytes}. */
    long offsetOf(long index, long imageBytes) {
        return Math.floorMod(Math.multiplyExact(index, stepBytes), imageBytes);
    }

    long totalBytes() {
        return Math.multiplyExact(count, (long) blockBytes);
    }
}
