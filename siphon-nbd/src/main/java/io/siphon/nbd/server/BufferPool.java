package io.siphon.nbd.server;

import java.nio.ByteBuffer;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Direct buffers for request payloads and read replies, reused: file and socket I/O from a direct
 * buffer skips the JDK's copy through a temporary one, and reuse skips allocating and zeroing.
 * Buffers come in power-of-two sizes; each size keeps at most a few megabytes idle. Thread-safe.
 */
final class BufferPool {
    private static final int MIN_SHIFT = 12;
    private static final int MAX_SHIFT = 25;
    /** Idle bytes kept per size; sizes above it are never kept. */
    private static final int IDLE_BYTES_PER_SIZE = 4 << 20;

    private final ConcurrentLinkedQueue<ByteBuffer>[] idle;
    private final AtomicInteger[] idleCounts;

    @SuppressWarnings("unchecked")
    BufferPool() {
        idle = new ConcurrentLinkedQueue[MAX_SHIFT + 1];
        idleCounts = new AtomicInteger[MAX_SHIFT + 1];
        for (int shift = MIN_SHIFT; shift <= MAX_SHIFT; shift++) {
            idle[shift] = new ConcurrentLinkedQueue<>();
            idleCounts[shift] = new AtomicInteger();
        }
    }

    /** A buffer with position 0 and limit {@code lengthBytes} (at most 32 MiB); its contents are undefined. */
    ByteBuffer take(int lengthBytes) {
        int shift = shiftFor(lengthBytes);
        ByteBuffer buffer = idle[shift].poll();
        if (buffer == null) {
            buffer = ByteBuffer.allocateDirect(1 << shift);
        } else {
            idleCounts[shift].decrementAndGet();
        }
        return buffer.clear().limit(lengthBytes);
    }

    /** Returns a buffer from {@link #take}; the caller no longer touches it. */
    void give(ByteBuffer buffer) {
        int shift = Integer.numberOfTrailingZeros(buffer.capacity());
        if (!buffer.isDirect() || buffer.capacity() != 1 << shift || shift < MIN_SHIFT || shift > MAX_SHIFT) {
            return;
        }
        int keep = IDLE_BYTES_PER_SIZE >> shift;
        if (idleCounts[shift].incrementAndGet() <= keep) {
            idle[shift].offer(buffer);
        } else {
            idleCounts[shift].decrementAndGet();
        }
    }

    private static int shiftFor(int lengthBytes) {
        if (lengthBytes < 0 || lengthBytes > 1 << MAX_SHIFT) {
            throw new IllegalArgumentException("buffer of " + lengthBytes + " bytes is not in 0.." + (1 << MAX_SHIFT));
        }
        int shift = 32 - Integer.numberOfLeadingZeros(Math.max(lengthBytes, 1 << MIN_SHIFT) - 1);
        return Math.max(MIN_SHIFT, shift);
    }
}
