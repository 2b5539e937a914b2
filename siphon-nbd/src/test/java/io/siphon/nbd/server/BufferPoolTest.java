package io.siphon.nbd.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
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
        // 8 MiB buffers exceed the per-size idle cap of 4 MiB: never kept
        ByteBuffer big = pool.take(8 << 20);
        pool.give(big);
        assertNotSame(big, pool.take(8 << 20));
        // heap buffers are not the pool's and are ignored
        pool.give(ByteBuffer.allocate(4096));
        assertTrue(pool.take(4096).isDirect());
    }
}
