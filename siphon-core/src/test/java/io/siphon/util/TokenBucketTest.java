package io.siphon.util;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class TokenBucketTest {
    private static final long MIB = 1 << 20;
    private static final long SECOND = 1_000_000_000L;

    private final FakeTimeSource clock = new FakeTimeSource();

    @Test
    void unlimitedNeverDelays() {
        TokenBucket bucket = new TokenBucket(clock, 0, SECOND / 10);
        bucket.charge(Long.MAX_VALUE / 2);
        assertEquals(0, bucket.delayNanos());
    }

    @Test
    void debtIsPaidBackAtTheRate() {
        TokenBucket bucket = new TokenBucket(clock, 10 * MIB, SECOND / 10);
        bucket.charge(MIB);
        assertEquals(SECOND / 10, bucket.delayNanos(), "1 MiB at 10 MiB/s is 100 ms");
        clock.advance(SECOND / 20);
        assertEquals(SECOND / 20, bucket.delayNanos());
        clock.advance(SECOND / 20);
        assertEquals(0, bucket.delayNanos());
    }

    @Test
    void idleTimeEarnsAtMostOneBurst() {
        TokenBucket bucket = new TokenBucket(clock, 10 * MIB, SECOND / 10);
        clock.advance(100 * SECOND);
        bucket.charge(MIB);
        assertEquals(0, bucket.delayNanos(), "one burst (1 MiB) was saved up");
        bucket.charge(MIB);
        assertEquals(SECOND / 10, bucket.delayNanos(), "but not more");
    }

    /** A worker that charges random-sized chunks and waits as told moves rate * time bytes. */
    @Test
    void longRunRateIsExactForRandomChunks() {
        long seed = System.nanoTime();
        System.out.println("seed " + seed);
        Random random = new Random(seed);
        for (long rate : new long[] {10 * MIB, 100 * MIB, 12_345}) {
            TokenBucket bucket = new TokenBucket(clock, rate, SECOND / 10);
            long start = clock.nanoTime();
            long bytes = 0;
            while (clock.nanoTime() - start < 10 * SECOND) {
                long chunk = 1 + random.nextInt((int) Math.min(4 * MIB, rate));
                bucket.charge(chunk);
                bytes += chunk;
                clock.advance(bucket.delayNanos() + random.nextInt(1000));
            }
            double seconds = (clock.nanoTime() - start) / 1e9;
            double achieved = bytes / seconds;
            assertTrue(
                    Math.abs(achieved - rate) / rate < 0.05,
                    "rate " + rate + " achieved " + achieved + " seed " + seed);
        }
    }

    @Test
    void rateChangesApplyFromNowOn() {
        TokenBucket bucket = new TokenBucket(clock, MIB, SECOND / 10);
        bucket.charge(MIB);
        assertEquals(SECOND, bucket.delayNanos());
        bucket.setRate(4 * MIB);
        assertEquals(SECOND / 4, bucket.delayNanos(), "the debt is repaid at the new rate");
        bucket.setRate(0);
        assertEquals(0, bucket.delayNanos(), "unlimited forgets the debt");
        assertEquals(0, bucket.rate());
    }

    @Test
    void negativeValuesAreRefused() {
        TokenBucket bucket = new TokenBucket(clock, MIB, SECOND / 10);
        assertThrows(IllegalArgumentException.class, () -> bucket.setRate(-1));
        assertThrows(IllegalArgumentException.class, () -> bucket.charge(-5));
        assertThrows(IllegalArgumentException.class, () -> new TokenBucket(clock, MIB, 0));
    }
}
