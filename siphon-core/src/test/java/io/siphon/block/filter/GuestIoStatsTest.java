package io.siphon.block.filter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The guest I/O counters and their latency histogram. */
class GuestIoStatsTest {
    @Test
    void everyLatencyFallsInABucketWhoseUpperEdgeIsWithinAnEighthAbove() {
        for (long nanos : new long[] {0, 1, 7, 8, 9, 15, 16, 17, 1000, 65_535, 123_456_789L, Long.MAX_VALUE}) {
            int bucket = GuestIoStats.bucket(nanos);
            assertTrue(bucket >= 0 && bucket < GuestIoStats.BUCKETS, "bucket " + bucket + " for " + nanos);
            long upper = GuestIoStats.bucketUpperNanos(bucket);
            assertTrue(upper >= nanos, nanos + " above its bucket's edge " + upper);
            assertTrue(upper - nanos <= nanos / 8, nanos + " too far below its bucket's edge " + upper);
            if (bucket > 0) {
                assertTrue(GuestIoStats.bucketUpperNanos(bucket - 1) < nanos, "the bucket below holds less");
            }
        }
    }

    @Test
    void quantilesAndCountsAreOfTheRequestsBetweenTwoSnapshots() {
        GuestIoStats stats = new GuestIoStats();
        for (int i = 0; i < 50; i++) {
            stats.started();
            stats.completed(1_000_000);
        }
        GuestIoStats.Snapshot first = stats.snapshot();
        for (int i = 0; i < 99; i++) {
            stats.started();
            stats.completed(10_000);
        }
        stats.started();
        stats.completed(5_000_000);
        stats.started(); // still running
        GuestIoStats.Snapshot second = stats.snapshot();
        assertEquals(100, second.completedSince(first));
        assertEquals(1, second.inFlight());
        long p99 = second.latencyQuantileNanosSince(first, 0.99);
        assertTrue(p99 >= 10_000 && p99 < 11_000, "p99 of 99 fast and 1 slow: " + p99);
        long max = second.latencyQuantileNanosSince(first, 1.0);
        assertTrue(max >= 5_000_000 && max < 5_700_000, "max " + max);
        assertEquals(0, second.latencyQuantileNanosSince(second, 0.99), "no request: 0");
    }

    @Test
    void theMeanLatencyAndQueueDepthAreOfTheRequestsBetweenTwoSnapshots() {
        GuestIoStats stats = new GuestIoStats();
        stats.started();
        stats.completed(9_000_000);
        GuestIoStats.Snapshot first = stats.snapshot();
        for (int i = 0; i < 4; i++) {
            stats.started();
            stats.completed(1_000_000 * (i + 1)); // 1, 2, 3 and 4 ms
        }
        stats.started();
        assertEquals(6, stats.startedCount());
        assertEquals(1, stats.inFlight());
        GuestIoStats.Snapshot second = stats.snapshot();
        assertEquals(2_500_000, second.meanLatencyNanosSince(first));
        // 10 ms of latency completed within 5 ms: two requests waiting on average
        assertEquals(2.0, second.meanQueueDepthSince(first, 5_000_000), 1e-9);
        assertEquals(0, second.meanLatencyNanosSince(second), "no request: 0");
        assertEquals(0, second.meanQueueDepthSince(first, 0), "no time: 0");
    }
}
