package io.siphon.block;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
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
        // The writer cannot finish while the read holds the overlapping range: it queues.
        awaitWaiting(1);
        assertFalse(write.isDone());
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

    /**
     * A waiting exclusive request is not overtaken by shared requests that arrive after it on its
     * range (a stream of guest reads cannot starve a copy), while disjoint requests still go.
     */
    @Test
    void overlappingRequestsAreGrantedInArrivalOrder() throws Exception {
        List<String> order = new CopyOnWriteArrayList<>();
        var firstRead = locks.shared(0, 100);
        try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
            var write = CompletableFuture.runAsync(() -> hold(() -> locks.exclusive(0, 100), "write", order), pool);
            awaitWaiting(1);
            var laterRead = CompletableFuture.runAsync(() -> hold(() -> locks.shared(50, 10), "read", order), pool);
            awaitWaiting(2);
            try (var elsewhere = locks.shared(200, 100)) {
                assertEquals(2, locks.heldCount(), "a disjoint read is granted at once");
            }
            assertFalse(write.isDone());
            assertFalse(laterRead.isDone());
            firstRead.close();
            write.get(10, TimeUnit.SECONDS);
            laterRead.get(10, TimeUnit.SECONDS);
        }
        assertEquals(List.of("write", "read"), order);
        assertEquals(0, locks.heldCount());
        assertEquals(0, locks.waitingCount());
    }

    private interface Acquire {
        RangeLocks.Held get() throws Exception;
    }

    private static void hold(Acquire acquire, String name, List<String> order) {
        try (var held = acquire.get()) {
            order.add(name);
        } catch (Exception e) {
            throw new RuntimeException(e);
        }
    }

    private void awaitWaiting(int count) throws InterruptedException {
        Waiting.untilCount(locks::waitingCount, count, "requests waiting for a range");
    }
}
