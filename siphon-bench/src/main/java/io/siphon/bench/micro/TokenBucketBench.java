package io.siphon.bench.micro;

import io.siphon.util.TimeSource;
import io.siphon.util.TokenBucket;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.Threads;

/**
 * The cost of charging a copied chunk to a pull's {@link TokenBucket} and asking for the delay, as
 * {@code StreamJob} and the throttle filter do per request: alone, and with four threads sharing a
 * bucket as guest threads share a throttled disk. The rate is high enough that no one waits.
 */
public class TokenBucketBench extends MicroBenchmark {
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
