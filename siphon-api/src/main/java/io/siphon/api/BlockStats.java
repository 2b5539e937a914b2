package io.siphon.api;

/**
 * The guest's I/O on a disk since its domain started, as {@code virDomainBlockStatsFlags} names
 * the fields (rd_operations, rd_bytes, wr_operations, wr_bytes, flush_operations, rd_total_times,
 * wr_total_times, flush_total_times); times are the requests' summed durations in nanoseconds.
 * Write-zeroes requests count as writes (as QEMU counts them); the driver's own copies (a pull) are
 * not counted.
 */
public record BlockStats(
        long readRequests,
        long readBytes,
        long writeRequests,
        long writeBytes,
        long flushRequests,
        long readTotalNanos,
        long writeTotalNanos,
        long flushTotalNanos) {
    /** No I/O. */
    public static final BlockStats ZERO = new BlockStats(0, 0, 0, 0, 0, 0, 0, 0);

    /** The sum of this and {@code other}: a domain's totals over its disks. */
    public BlockStats plus(BlockStats other) {
        return new BlockStats(
                readRequests + other.readRequests,
                readBytes + other.readBytes,
                writeRequests + other.writeRequests,
                writeBytes + other.writeBytes,
                flushRequests + other.flushRequests,
                readTotalNanos + other.readTotalNanos,
                writeTotalNanos + other.writeTotalNanos,
                flushTotalNanos + other.flushTotalNanos);
    }
}
