package io.siphon.block.filter;

import io.siphon.block.BlockDevice;
import io.siphon.block.RequestFlag;
import io.siphon.util.TimeSource;
import io.siphon.util.TokenBucket;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.util.Set;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Limits the bytes read and written through it to a rate in bytes per second (0 = unlimited),
 * changeable while requests run. Requests wait before they are sent, so the limit holds for what
 * reaches the node below. Thread-safe.
 */
public final class ThrottleFilter extends FilterBlockDevice {
    private static final long BURST_NANOS = 100_000_000L;

    private final TimeSource time;
    private final TokenBucket bucket;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition rateChanged = lock.newCondition();

    public ThrottleFilter(BlockDevice next, TimeSource time, long bytesPerSecond) {
        super(next);
        this.time = time;
        this.bucket = new TokenBucket(time, bytesPerSecond, BURST_NANOS);
    }

    /** The limit in bytes per second; 0 is unlimited. */
    public long bytesPerSecond() {
        return bucket.rate();
    }

    /** Changes the limit; waiting requests re-check at once. */
    public void setBytesPerSecond(long bytesPerSecond) {
        bucket.setRate(bytesPerSecond);
        lock.lock();
        try {
            rateChanged.signalAll();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void read(long offsetBytes, ByteBuffer dst, Set<RequestFlag> flags) throws IOException {
        admit(dst.remaining());
        next.read(offsetBytes, dst, flags);
    }

    @Override
    public void write(long offsetBytes, ByteBuffer src, Set<RequestFlag> flags) throws IOException {
        admit(src.remaining());
        next.write(offsetBytes, src, flags);
    }

    /** Waits until the bucket is out of debt, then charges the request. */
    private void admit(long bytes) throws InterruptedIOException {
        lock.lock();
        try {
            long delay;
            while ((delay = bucket.delayNanos()) > 0) {
                time.awaitUntil(rateChanged, time.nanoTime() + delay);
            }
            bucket.charge(bytes);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while throttled");
        } finally {
            lock.unlock();
        }
    }
}
