package io.siphon.bench.micro;

import io.siphon.util.TimeSource;
import io.siphon.util.TokenBucket;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The cost of charging a copied chunk to a pull's {@link TokenBucket} and asking for the delay, as
 * {@code StreamJob} and the throttle filter do per request: alone, and with four threads sharing a
 * bucket as guest threads share a throttled disk. The rate is high enough that no one waits.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class TokenBucketBench {
    private TokenBucket bucket;

    @Setup
    public void setUp() {
        bucket = new TokenBucket(TimeSource.SYSTEM, 1L << 50, TimeUnit.MILLISECONDS.toNanos(100));
    }

    @Benchmark
    public long chargeAndDelay() {
        bucket.charge(4096);
        return bucket.delayNanos();
    }

    @Benchmark
    @Threads(4)
    public long chargeAndDelayFourThreads() {
        bucket.charge(4096);
        return bucket.delayNanos();
    }
}
