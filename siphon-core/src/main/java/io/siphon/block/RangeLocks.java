package io.siphon.block;

import java.io.InterruptedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Locks over byte ranges of one device, held by in-flight requests: shared ranges (plain reads)
 * overlap each other, an exclusive range (a write, or a copy-on-read that writes what it read)
 * overlaps nothing. A request waits until no conflicting range is held and no conflicting request
 * that arrived before it is still waiting: overlapping requests are granted in arrival order, so a
 * stream of reads cannot starve a copy (or a guest write) that waits for their range. Thread-safe.
 *
 * <p>Ranges are few (one per in-flight request), so lists scanned under one lock are enough. They
 * come from a {@code RequestGate}, which checked them against the device.
 */
public final class RangeLocks {
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition released = lock.newCondition();
    private final List<Held> held = new ArrayList<>();
    /** Requests not yet granted, in arrival order. */
    private final List<Held> waiting = new ArrayList<>();

    /** One held range; closing it releases it. Not reentrant: close it exactly once. */
    public final class Held implements AutoCloseable {
        private final long offsetBytes;
        private final long endBytes;
        private final boolean exclusive;

        private Held(long offsetBytes, long endBytes, boolean exclusive) {
            this.offsetBytes = offsetBytes;
            this.endBytes = endBytes;
            this.exclusive = exclusive;
        }

        public long offsetBytes() {
            return offsetBytes;
        }

        public long endBytes() {
            return endBytes;
        }

        boolean conflictsWith(long otherOffset, long otherEnd, boolean otherExclusive) {
            return (exclusive || otherExclusive) && offsetBytes < otherEnd && otherOffset < endBytes;
        }

        @Override
        public void close() {
            lock.lock();
            try {
                if (held.remove(this)) {
                    released.signalAll();
                }
            } finally {
                lock.unlock();
            }
        }
    }

    /** Waits for and takes a shared lock on {@code [offsetBytes, offsetBytes + lengthBytes)}. */
    public Held shared(long offsetBytes, long lengthBytes) throws InterruptedIOException {
        return acquire(offsetBytes, lengthBytes, false);
    }

    /** Waits for and takes an exclusive lock on {@code [offsetBytes, offsetBytes + lengthBytes)}. */
    public Held exclusive(long offsetBytes, long lengthBytes) throws InterruptedIOException {
        return acquire(offsetBytes, lengthBytes, true);
    }

    /** How many ranges are held now (for tests and diagnostics). */
    public int heldCount() {
        lock.lock();
        try {
            return held.size();
        } finally {
            lock.unlock();
        }
    }

    /** How many requests wait for a range now (for tests and diagnostics). */
    public int waitingCount() {
        lock.lock();
        try {
            return waiting.size();
        } finally {
            lock.unlock();
        }
    }

    private Held acquire(long offsetBytes, long lengthBytes, boolean exclusive) throws InterruptedIOException {
        Held range = new Held(offsetBytes, offsetBytes + lengthBytes, exclusive);
        lock.lock();
        try {
            waiting.add(range);
            try {
                while (conflicts(held, range) || conflictsWithEarlier(range)) {
                    released.await();
                }
            } catch (InterruptedException e) {
                waiting.remove(range);
                // requests queued behind this one may go now that it gave up (once granted, it
                // would have conflicted with them as much as it did while waiting: no wake-up then)
                released.signalAll();
                Thread.currentThread().interrupt();
                InterruptedIOException failure =
                        new InterruptedIOException("interrupted waiting for range " + offsetBytes + "+" + lengthBytes);
                failure.initCause(e);
                throw failure;
            }
            waiting.remove(range);
            held.add(range);
            return range;
        } finally {
            lock.unlock();
        }
    }

    private boolean conflictsWithEarlier(Held range) {
        for (Held earlier : waiting) {
            if (earlier == range) {
                return false;
            }
            if (earlier.conflictsWith(range.offsetBytes, range.endBytes, range.exclusive)) {
                return true;
            }
        }
        return false;
    }

    private static boolean conflicts(List<Held> ranges, Held range) {
        for (Held other : ranges) {
            if (other.conflictsWith(range.offsetBytes, range.endBytes, range.exclusive)) {
                return true;
            }
        }
        return false;
    }
}
