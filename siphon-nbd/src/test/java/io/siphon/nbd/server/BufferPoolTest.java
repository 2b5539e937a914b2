package io.siphon.nbd.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class BufferPoolTest {
    @Test
    void buffersAreDirectSizedToThePowerOfTwoAndLimitedToTheRequest() {
        BufferPool pool = new BufferPool();
        ByteBuffer small = pool.take(1);
        assertTrue(small.isDirect());
        assertEquals(4096, small.capacity());
        assertEquals(1, small.limit());
        ByteBuffer odd = pool.take(65537);
        assertEquals(131072, odd.capacity());
        assertEquals(65537, odd.remaining());
        assertEquals(32 << 20, pool.take(32 << 20).capacity());
        assertThrows(IllegalArgumentException.class, () -> pool.take((32 << 20) + 1));
    }

    @Test
    void givenBuffersAreReusedUpToTheIdleCap() {
        BufferPool pool = new BufferPool();
        ByteBuffer first = pool.take(4096);
        pool.give(first);
        ByteBuffer again = pool.take(100);
        assertSame(first, again);
        assertEquals(100, again.limit());
        assertEquals(0, again.position());
        // at most 128 MiB wait idle: the fifth 32 MiB buffer given back is dropped
        List<ByteBuffer> big = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            big.add(pool.take(32 << 20));
        }
        big.forEach(pool::give);
        int reused = 0;
        for (int i = 0; i < 5; i++) {
            ByteBuffer taken = pool.take(32 << 20);
            reused += big.stream().anyMatch(b -> b == taken) ? 1 : 0;
        }
        assertEquals(4, reused);
        // heap buffers are not the pool's and are ignored
        pool.give(ByteBuffer.allocate(4096));
        assertTrue(pool.take(4096).isDirect());
    }
}
