package io.siphon.block.filter;

import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * What a disk's guest asks of it, counted where its requests enter (the NBD server, from a request's
 * arrival to its reply written, or else the disk's {@link RequestGate}): requests started and
 * completed, the sum of their latencies (by Little's law, their mean queue depth over a time) and
 * their latencies in a log-linear histogram (8 buckets per power of two, so a percentile is known
 * within about 9%); and, for {@code virsh domblkstat}, the reads, writes and flushes with their
 * bytes and summed times ({@link Totals}). A request costs six adds and one array increment, no
 * allocation and no lock; readers take {@link Snapshot}s and compare two of them. Thread-safe.
 */
public final class GuestIoStats {
    private static final int SUB_BITS = 3;
    private static final int SUB_BUCKETS = 1 << SUB_BITS;
    static final int BUCKETS = (64 - SUB_BITS + 1) * SUB_BUCKETS;

    private final LongAdder started = new LongAdder();
    private final LongAdder completed = new LongAdder();
    private final LongAdder latencySumNanos = new LongAdder();
    private final AtomicLongArray latencyCounts = new AtomicLongArray(BUCKETS);
    private final Counter reads = new Counter();
    private final Counter writes = new Counter();
    private final Counter flushes = new Counter();

    /** What a request was, for the totals; {@code OTHER} (a discard) counts only in the histogram. */
    public enum Kind {
        READ,
        WRITE,
        OTHER
    }

    /** Requests of one kind: how many completed, their bytes and their summed latency. */
    private static final class Counter {
        final LongAdder requests = new LongAdder();
        final LongAdder bytes = new LongAdder();
        final LongAdder nanos = new LongAdder();

        void add(long lengthBytes, long latencyNanos) {
            requests.increment();
            bytes.add(lengthBytes);
            nanos.add(latencyNanos);
        }
    }

    /** Counts a request that starts now. */
    public void started() {
        started.increment();
    }

    /** Counts a request that completed (successfully or not) after {@code latencyNanos}. */
    public void completed(long latencyNanos) {
        long nanos = Math.max(0, latencyNanos);
        latencyCounts.incrementAndGet(bucket(nanos));
        latencySumNanos.add(nanos);
        completed.increment();
    }

    /** Counts a request of {@code kind} and {@code lengthBytes} that completed after {@code latencyNanos}. */
    public void completed(Kind kind, long lengthBytes, long latencyNanos) {
        long nanos = Math.max(0, latencyNanos);
        completed(nanos);
        switch (kind) {
            case READ -> reads.add(lengthBytes, nanos);
            case WRITE -> writes.add(lengthBytes, nanos);
            case OTHER -> {}
        }
    }

    /**
     * Counts a flush that completed after {@code latencyNanos}; flushes stay out of the histogram
     * and the request counts, which pace a pull by the guest's reads and writes.
     */
    public void flushed(long latencyNanos) {
        flushes.add(0, Math.max(0, latencyNanos));
    }

    /** The reads, writes and flushes so far (each sum read on its own, so not one instant). */
    public Totals totals() {
        return new Totals(
                reads.requests.sum(),
                reads.bytes.sum(),
                reads.nanos.sum(),
                writes.requests.sum(),
                writes.bytes.sum(),
                writes.nanos.sum(),
                flushes.requests.sum(),
                flushes.nanos.sum());
    }

    /**
     * The guest's reads, writes (write-zeroes included, as QEMU counts them) and flushes since the
     * counting began, with their bytes and summed latencies in nanoseconds.
     */
    public record Totals(
            long readRequests,
            long readBytes,
            long readNanos,
            long writeRequests,
            long writeBytes,
            long writeNanos,
            long flushRequests,
            long flushNanos) {}

    /** Requests started so far: cheaper than a snapshot, for a check between two snapshots. */
    public long startedCount() {
        return started.sum();
    }

    /** Requests running now. */
    public long inFlight() {
        long done = completed.sum(); // before started, as in snapshot()
        return Math.max(0, started.sum() - done);
    }

    /** The counts now. */
    public Snapshot snapshot() {
        long[] counts = new long[BUCKETS];
        for (int i = 0; i < BUCKETS; i++) {
            counts[i] = latencyCounts.get(i);
        }
        // completed before started: a request counted between the two reads shows as in flight
        long sum = latencySumNanos.sum();
        long done = completed.sum();
        return new Snapshot(started.sum(), done, sum, counts);
    }

    static int bucket(long nanos) {
        if (nanos < SUB_BUCKETS) {
            return (int) nanos;
        }
        int exponent = 63 - Long.numberOfLeadingZeros(nanos); // >= SUB_BITS
        int sub = (int) (nanos >>> (exponent - SUB_BITS)) & (SUB_BUCKETS - 1);
        return (exponent - SUB_BITS + 1) * SUB_BUCKETS + sub;
    }

    /** The largest latency a bucket holds, in nanoseconds. */
    static long bucketUpperNanos(int bucket) {
        if (bucket < SUB_BUCKETS) {
            return bucket;
        }
        int exponent = bucket / SUB_BUCKETS + SUB_BITS - 1;
        long sub = bucket % SUB_BUCKETS;
        long lower = (SUB_BUCKETS + sub) << (exponent - SUB_BITS);
        return lower + (1L << (exponent - SUB_BITS)) - 1;
    }

    /**
     * The guest's counts at one moment.
     *
     * @param started requests started so far
     * @param completed requests completed so far
     * @param latencySumNanos the latencies of the completed requests, summed
     * @param latencyCounts completed requests per latency bucket
     */
    public record Snapshot(long started, long completed, long latencySumNanos, long[] latencyCounts) {
        /** Requests running at the moment of the snapshot. */
        public long inFlight() {
            return Math.max(0, started - completed);
        }

        /** Requests completed between {@code earlier} and this snapshot. */
        public long completedSince(Snapshot earlier) {
            return completed - earlier.completed;
        }

        /**
         * The mean number of requests the guest kept waiting on the disk between {@code earlier} and
         * this snapshot, {@code elapsedNanos} apart (Little's law: the latencies completed in that
         * time over the time); 0 when no time passed.
         */
        public double meanQueueDepthSince(Snapshot earlier, long elapsedNanos) {
            return elapsedNanos <= 0 ? 0 : (double) (latencySumNanos - earlier.latencySumNanos) / elapsedNanos;
        }

        /** The mean latency of the requests completed since {@code earlier}, in nanoseconds; 0 when none. */
        public long meanLatencyNanosSince(Snapshot earlier) {
            long n = completedSince(earlier);
            return n <= 0 ? 0 : (latencySumNanos - earlier.latencySumNanos) / n;
        }

        /**
         * The {@code quantile} (in (0, 1]) of the latencies of requests completed since {@code
         * earlier}, in nanoseconds (the upper edge of its bucket); 0 when none completed.
         */
        public long latencyQuantileNanosSince(Snapshot earlier, double quantile) {
            if (!(quantile > 0 && quantile <= 1)) {
                throw new IllegalArgumentException("quantile must be in (0, 1], got " + quantile);
            }
            long total = 0;
            for (int i = 0; i < BUCKETS; i++) {
                total += latencyCounts[i] - earlier.latencyCounts[i];
            }
            if (total <= 0) {
                return 0;
            }
            long rank = (long) Math.ceil(quantile * total);
            long seen = 0;
            for (int i = 0; i < BUCKETS; i++) {
                seen += latencyCounts[i] - earlier.latencyCounts[i];
                if (seen >= rank) {
                    return bucketUpperNanos(i);
                }
            }
            return bucketUpperNanos(BUCKETS - 1);
        }
    }
}
