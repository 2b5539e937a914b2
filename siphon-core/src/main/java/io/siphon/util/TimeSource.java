package io.siphon.util;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;

/**
 * A monotonic clock in nanoseconds and a way to wait on it, injected so that rate limits and
 * progress can be tested with a fake clock. Implementations are thread-safe.
 */
public interface TimeSource {
    /** The wall clock of this machine. */
    TimeSource SYSTEM = new TimeSource() {
        @Override
        public long nanoTime() {
            return System.nanoTime();
        }

        @Override
        public void awaitUntil(Condition condition, long deadlineNanos) throws InterruptedException {
            long remaining = deadlineNanos - System.nanoTime();
            if (remaining > 0) {
                condition.await(remaining, TimeUnit.NANOSECONDS);
            }
        }
    };

    /** Nanoseconds since an arbitrary origin; never decreases. */
    long nanoTime();

    /**
     * Waits on {@code condition} (whose lock the caller holds) until it is signalled, this clock
     * reaches {@code deadlineNanos}, or a spurious wake-up: callers re-check their state in a loop.
     */
    void awaitUntil(Condition condition, long deadlineNanos) throws InterruptedException;
}
