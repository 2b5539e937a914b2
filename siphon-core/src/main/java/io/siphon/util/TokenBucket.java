package io.siphon.util;

/**
 * A rate limit in bytes per second that lets work run ahead by at most one burst and then makes it
 * wait for the tokens it spent: over any interval {@code t} at most {@code burst + rate * t} bytes
 * pass. A rate of 0 means unlimited. Thread-safe.
 *
 * <p>Work is charged after it is done ({@link #charge}), so one large request may overdraw the
 * bucket; the debt is paid back by the delay that follows, which keeps the long-run rate exact.
 */
public final class TokenBucket {
    private static final long NANOS_PER_SECOND = 1_000_000_000L;

    private final TimeSource time;
    private final long burstNanos;
    private long bytesPerSecond;
    /** Tokens in bytes; negative is debt. */
    private double tokens;

    private long lastRefillNanos;

    /**
     * A bucket refilled at {@code bytesPerSecond} that holds at most {@code burstNanos} worth of
     * tokens (e.g. 100 ms of traffic).
     */
    public TokenBucket(TimeSource time, long bytesPerSecond, long burstNanos) {
        if (burstNanos <= 0) {
            throw new IllegalArgumentException("burst must be positive, got " + burstNanos + " ns");
        }
        this.time = time;
        this.burstNanos = burstNanos;
        this.lastRefillNanos = time.nanoTime();
        setRate(bytesPerSecond);
    }

    /** The rate in bytes per second; 0 is unlimited. */
    public synchronized long rate() {
        return bytesPerSecond;
    }

    /**
     * Changes the rate from now on; tokens earned so far at the old rate are kept (up to the new
     * burst), debt is kept too, so a rate change neither forgives nor grants past traffic.
     */
    public synchronized void setRate(long newBytesPerSecond) {
        if (newBytesPerSecond < 0) {
            throw new IllegalArgumentException("rate must not be negative, got " + newBytesPerSecond + " bytes/s");
        }
        refill();
        this.bytesPerSecond = newBytesPerSecond;
        if (newBytesPerSecond == 0) {
            tokens = 0;
        } else {
            tokens = Math.min(tokens, burstBytes());
        }
    }

    /** Spends {@code bytes} tokens for work already done. */
    public synchronized void charge(long bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("negative charge " + bytes);
        }
        if (bytesPerSecond == 0) {
            return;
        }
        refill();
        tokens -= bytes;
    }

    /** Nanoseconds until the bucket is out of debt: how long the caller should wait before more work. */
    public synchronized long delayNanos() {
        if (bytesPerSecond == 0) {
            return 0;
        }
        refill();
        if (tokens >= 0) {
            return 0;
        }
        return (long) Math.ceil(-tokens * NANOS_PER_SECOND / bytesPerSecond);
    }

    private double burstBytes() {
        return (double) bytesPerSecond * burstNanos / NANOS_PER_SECOND;
    }

    private void refill() {
        long now = time.nanoTime();
        long elapsed = now - lastRefillNanos;
        lastRefillNanos = now;
        if (bytesPerSecond == 0 || elapsed <= 0) {
            return;
        }
        tokens = Math.min(burstBytes(), tokens + (double) bytesPerSecond * elapsed / NANOS_PER_SECOND);
    }
}
