package io.siphon.block;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Set;

/**
 * A virtual disk of fixed size that reads, writes and reports allocation at byte granularity.
 *
 * <p>Implementations are safe for concurrent use by many threads. Ranges are checked against {@link
 * #sizeBytes()} once, at the edge where a request enters the block layer: a {@code RequestGate}
 * (in {@code io.siphon.block.filter}) refuses a request outside the device with an {@link
 * IllegalArgumentException}; the filters and formats below trust it. Reads and writes transfer
 * exactly {@code buffer.remaining()} bytes and advance the buffer's position.
 */
public interface BlockDevice extends AutoCloseable {
    /** Virtual size in bytes. */
    long sizeBytes();

    /** Whether writes are refused. */
    boolean isReadOnly();

    /** Reads {@code dst.remaining()} bytes at {@code offsetBytes}. */
    void read(long offsetBytes, ByteBuffer dst, Set<RequestFlag> flags) throws IOException;

    /** Writes {@code src.remaining()} bytes at {@code offsetBytes}. */
    void write(long offsetBytes, ByteBuffer src, Set<RequestFlag> flags) throws IOException;

    /** Makes the range read as zeroes; with {@link RequestFlag#MAY_UNMAP} it may free space. */
    void writeZeroes(long offsetBytes, long lengthBytes, Set<RequestFlag> flags) throws IOException;

    /**
     * Hints that the range is no longer needed. Afterwards it reads as zeroes, or as the backing
     * node's data if the node has a backing, or unchanged: as NBD's TRIM, contents are unspecified.
     */
    void discard(long offsetBytes, long lengthBytes) throws IOException;

    /** Makes every completed write durable. */
    void flush() throws IOException;

    /**
     * Allocation of this node (not its backing) over the range, in order and contiguous from {@code
     * offsetBytes}. The list may end before {@code offsetBytes + lengthBytes} (callers continue from
     * the last extent's end) but is never empty for a non-empty range inside the device.
     */
    List<Extent> blockStatus(long offsetBytes, long lengthBytes) throws IOException;

    default void read(long offsetBytes, ByteBuffer dst) throws IOException {
        read(offsetBytes, dst, Set.of());
    }

    default void write(long offsetBytes, ByteBuffer src) throws IOException {
        write(offsetBytes, src, Set.of());
    }

    /** Flushes nothing more; releases files and locks. Idempotent. */
    @Override
    void close() throws IOException;
}
