package io.siphon.format.remote;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.time.Duration;
import java.util.Objects;

/**
 * How a remote read that fails transiently ({@link RemoteObjectException#isTransient}) is retried:
 * with exponential backoff from {@code firstBackoff} up to {@code maxBackoff}, until {@code timeout}
 * has passed since the first attempt; then the read fails with reason {@code UNAVAILABLE}. This
 * timeout is what a guest read waits at most before it gets an I/O error.
 */
public record RetryPolicy(Duration firstBackoff, Duration maxBackoff, Duration timeout) {
    /** 100 ms doubling to 5 s, for up to 30 s. */
    public static final RetryPolicy DEFAULT =
            new RetryPolicy(Duration.ofMillis(100), Duration.ofSeconds(5), Duration.ofSeconds(30));

    public RetryPolicy {
        Objects.requireNonNull(firstBackoff, "firstBackoff");
        Objects.requireNonNull(maxBackoff, "maxBackoff");
        Objects.requireNonNull(timeout, "timeout");
        if (firstBackoff.isNegative()
                || firstBackoff.isZero()
                || maxBackoff.compareTo(firstBackoff) < 0
                || timeout.isNegative()) {
            throw new IllegalArgumentException(
                    "bad retry policy: backoff " + firstBackoff + " to " + maxBackoff + ", timeout " + timeout);
        }
    }

    /** One attempt of a remote operation. */
    @FunctionalInterface
    public interface Attempt<T> {
        T run() throws IOException;
    }

    /** Runs {@code attempt} until it succeeds, fails for good, or the timeout passes. */
    public <T> T run(Attempt<T> attempt) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        Duration backoff = firstBackoff;
        int attempts = 0;
        while (true) {
            attempts++;
            try {
                return attempt.run();
            } catch (RemoteObjectException e) {
                if (!e.isTransient()) {
                    throw e;
                }
                if (System.nanoTime() + backoff.toNanos() > deadline) {
                    throw new RemoteObjectException(
                            RemoteObjectException.Reason.UNAVAILABLE,
                            e.name(),
                            "unreachable for " + timeout.toMillis() + " ms (" + attempts + " attempts); last: "
                                    + e.getMessage(),
                            e);
                }
            }
            try {
                Thread.sleep(backoff);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while waiting to retry a remote read");
            }
            backoff = backoff.multipliedBy(2).compareTo(maxBackoff) > 0 ? maxBackoff : backoff.multipliedBy(2);
        }
    }
}
