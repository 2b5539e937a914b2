package io.siphon.bench.micro;

import io.siphon.block.RangeLocks;
import java.io.InterruptedIOException;
import java.util.concurrent.atomic.AtomicLong;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;

/**
 * Taking and releasing one range lock, the toll every request through a disk in use pays: shared
 * (guest reads), and exclusive on four threads' disjoint 64 KiB ranges (writes that never conflict,
 * so what is measured is the bookkeeping under the one lock, not waiting).
 */
public class RangeLocksBench extends MicroBenchmark {
    private static final long RANGE_BYTES = 64 << 10;

    private final RangeLocks locks = new RangeLocks();

    /** Each benchmark thread's own range, so that exclusive ranges never overlap. */
    @State(Scope.Thread)
    public static class OwnRange {
        private static final AtomicLong NEXT = new AtomicLong();
        final long offsetBytes = NEXT.getAndIncrement() * RANGE_BYTES;
    }

    @Benchmark
    public long sharedAlone(OwnRange range) throws InterruptedIOException {
        try (RangeLocks.Held held = locks.shared(range.offsetBytes, RANGE_BYTES)) {
            return held.endBytes();
        }
    }

    @Benchmark
    @Threads(4)
    public long exclusiveDisjointFourThreads(OwnRange range) throws InterruptedIOException {
        try (RangeLocks.Held held = locks.exclusive(range.offsetBytes, RANGE_BYTES)) {
            return held.endBytes();
        }
    }
}
