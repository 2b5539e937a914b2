package io.siphon.block;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class RangeLocksTest {
    private final RangeLocks locks = new RangeLocks();

    @Test
    void sharedRangesOverlap() throws Exception {
        try (var a = locks.shared(0, 100);
                var b = locks.shared(50, 100)) {
            assertEquals(2, locks.heldCount());
        }
        assertEquals(0, locks.heldCount());
    }

    @Test
    void disjointExclusiveRangesDoNotWait() throws Exception {
        try (var a = locks.exclusive(0, 100);
                var b = locks.exclusive(100, 100)) {
            assertEquals(2, locks.heldCount());
        }
    }

    @Test
    void exclusiveWaitsForOverlappingSharedAndViceVersa() throws Exception {
        var read = locks.shared(0, 4096);
        CompletableFuture<Void> write = CompletableFuture.runAsync(
                () -> {
                    try (var w = locks.exclusive(4000, 10)) {
                        // held briefly
                    } catch (Exception e) {
                        throw new RuntimeException(e);
                    }
                },
                Executors.newVirtualThreadPerTaskExecutor());
        // The writer cannot finish while the read holds the overlapping range.
        assertFalse(waitsOut(write));
        read.close();
        write.get(10, TimeUnit.SECONDS);
        assertEquals(0, locks.heldCount());
    }

    /** Many threads increment a counter under an exclusive lock on one byte of a wide range: none is lost. */
    @Test
    void exclusiveRangesSerialize() throws Exception {
        int[] counter = {0};
        AtomicInteger inside = new AtomicInteger();
        AtomicInteger maxInside = new AtomicInteger();
        CountDownLatch done = new CountDownLatch(32);
        try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int t = 0; t < 32; t++) {
                int offset = t % 4;
                pool.submit(() -> {
                    for (int i = 0; i < 1000; i++) {
                        try (var held = locks.exclusive(offset, 10)) {
                            maxInside.accumulateAndGet(inside.incrementAndGet(), Math::max);
                            counter[0]++;
                            inside.decrementAndGet();
                        }
                    }
                    done.countDown();
                    return null;
                });
            }
        }
        assertTrue(done.await(0, TimeUnit.SECONDS));
        assertEquals(32_000, counter[0]);
        assertEquals(1, maxInside.get());
    }

    /** Whether the future is still pending after the caller gave it a chance to run. */
    private static boolean waitsOut(CompletableFuture<Void> future) throws InterruptedException {
        Thread.sleep(50);
        return future.isDone();
    }
}
