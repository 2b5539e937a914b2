package io.siphon.util;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;

/** A clock that moves only when a test advances it; waiters see the new time within a millisecond. */
public final class FakeTimeSource implements TimeSource {
    private final AtomicLong nanos = new AtomicLong(1_000_000_000L);
    private final Object waitsChanged = new Object();
    private long waits;

    @Override
    public long nanoTime() {
        return nanos.get();
    }

    /** Moves the clock forward by {@code deltaNanos}. */
    public void advance(long deltaNanos) {
        nanos.addAndGet(deltaNanos);
    }

    @Override
    public void awaitUntil(Condition condition, long deadlineNanos) throws InterruptedException {
        synchronized (waitsChanged) {
            waits++;
            waitsChanged.notifyAll();
        }
        if (nanos.get() < deadlineNanos) {
            // The fake clock cannot signal conditions it does not own, so waiters poll it briefly;
            // callers loop on their own state, so the wake-up's timing decides nothing.
            condition.await(1, TimeUnit.MILLISECONDS);
        }
    }

    /**
     * Waits until waiters have called {@link #awaitUntil} {@code count} times in all, so that a
     * test knows a sleeper is asleep (and has re-checked the clock) instead of hoping it is.
     */
    public boolean awaitWaits(long count, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (waitsChanged) {
            while (waits < count) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                TimeUnit.NANOSECONDS.timedWait(waitsChanged, left);
            }
            return true;
        }
    }
}
