package io.siphon.block;

import io.siphon.util.Checked;
import java.io.InterruptedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Locks over byte ranges of one device, held by in-flight requests: shared ranges (plain reads)
 * overlap each other, an exclusive range (a write, or a copy-on-read that writes what it read)
 * overlaps nothing. A request waits until no conflicting range is held. Thread-safe.
 *
 * <p>Ranges are few (one per in-flight request), so a list scanned under one lock is enough.
 */
public final class RangeLocks {
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition released = lock.newCondition();
    private final List<Held> held = new ArrayList<>();

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

    private Held acquire(long offsetBytes, long lengthBytes, boolean exclusive) throws InterruptedIOException {
        long end = Checked.end(offsetBytes, lengthBytes);
        lock.lock();
        try {
            while (conflicts(offsetBytes, end, exclusive)) {
                try {
                    released.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    InterruptedIOException failure = new InterruptedIOException(
                            "interrupted waiting for range " + offsetBytes + "+" + lengthBytes);
                    failure.initCause(e);
                    throw failure;
                }
            }
            Held range = new Held(offsetBytes, end, exclusive);
            held.add(range);
            return range;
        } finally {
            lock.unlock();
        }
    }

    private boolean conflicts(long offsetBytes, long end, boolean exclusive) {
        for (Held range : held) {
            if (range.conflictsWith(offsetBytes, end, exclusive)) {
                return true;
            }
        }
        return false;
    }
}
