package io.siphon.nbd.server;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Direct buffers for request payloads and read replies, reused: file and socket I/O from a direct
 * buffer skips the JDK's copy through a temporary one, and reuse skips allocating and zeroing.
 * Buffers come in power-of-two sizes; at most 128 MiB of them wait idle, enough for every request
 * in flight of a few busy connections, so that a steady load allocates nothing. A buffer dropped
 * past that is freed at once (each has its own arena), not when the garbage collector gets to it, so
 * the memory held is what is in flight plus what waits idle. Thread-safe.
 */
final class BufferPool {
    private static final int MIN_SHIFT = 12;
    private static final int MAX_SHIFT = 25;
    /** Idle bytes kept over all sizes. */
    private static final long MAX_IDLE_BYTES = 128L << 20;

    private final ConcurrentLinkedQueue<ByteBuffer>[] idle;
    private final AtomicLong idleBytes = new AtomicLong();
    private final AtomicLong liveBytes = new AtomicLong();
    /** The arena of each buffer this pool allocated, by its address. */
    private final ConcurrentHashMap<Long, Arena> arenas = new ConcurrentHashMap<>();

    @SuppressWarnings("unchecked")
    BufferPool() {
        idle = new ConcurrentLinkedQueue[MAX_SHIFT + 1];
        for (int shift = MIN_SHIFT; shift <= MAX_SHIFT; shift++) {
            idle[shift] = new ConcurrentLinkedQueue<>();
        }
    }

    /** A buffer with position 0 and limit {@code lengthBytes} (at most 32 MiB); its contents are undefined. */
    ByteBuffer take(int lengthBytes) {
        int shift = shiftFor(lengthBytes);
        ByteBuffer buffer = idle[shift].poll();
        if (buffer == null) {
            buffer = allocate(1 << shift);
        } else {
            idleBytes.addAndGet(-buffer.capacity());
        }
        return buffer.clear().limit(lengthBytes);
    }

    /** Returns a buffer from {@link #take}; the caller no longer touches it. */
    void give(ByteBuffer buffer) {
        int shift = Integer.numberOfTrailingZeros(buffer.capacity());
        if (!buffer.isDirect() || buffer.capacity() != 1 << shift || shift < MIN_SHIFT || shift > MAX_SHIFT) {
            return;
        }
        long address = addressOf(buffer);
        if (!arenas.containsKey(address)) {
            return;
        }
        if (idleBytes.addAndGet(buffer.capacity()) <= MAX_IDLE_BYTES) {
            idle[shift].offer(buffer);
        } else {
            idleBytes.addAndGet(-buffer.capacity());
            arenas.remove(address).close();
            liveBytes.addAndGet(-buffer.capacity());
        }
    }

    /** Bytes of the buffers this pool holds now, in use or idle. */
    long liveBytes() {
        return liveBytes.get();
    }

    /** Where the buffer's memory starts, whatever its position. */
    private static long addressOf(ByteBuffer buffer) {
        return MemorySegment.ofBuffer(buffer.duplicate().position(0)).address();
    }

    private ByteBuffer allocate(int capacity) {
        Arena arena = Arena.ofShared();
        ByteBuffer buffer;
        try {
            buffer = arena.allocate(capacity, 4096).asByteBuffer();
        } catch (RuntimeException | Error e) {
            arena.close();
            throw e;
        }
        arenas.put(addressOf(buffer), arena);
        liveBytes.addAndGet(capacity);
        return buffer;
    }

    private static int shiftFor(int lengthBytes) {
        if (lengthBytes < 0 || lengthBytes > 1 << MAX_SHIFT) {
            throw new IllegalArgumentException("buffer of " + lengthBytes + " bytes is not in 0.." + (1 << MAX_SHIFT));
        }
        int shift = 32 - Integer.numberOfLeadingZeros(Math.max(lengthBytes, 1 << MIN_SHIFT) - 1);
        return Math.max(MIN_SHIFT, shift);
    }
}
