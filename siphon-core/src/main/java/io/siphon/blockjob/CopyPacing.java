package io.siphon.blockjob;

import io.siphon.util.TimeSource;
import io.siphon.util.TokenBucket;

/**
 * When a pull may copy its next chunk: charged with what it copied, asked how long to wait. The
 * speed limit set through it is a hard cap whatever the pacing. Not thread-safe except {@link
 * #setLimit} and {@link #limit}, which the job engine may call from another thread.
 */
interface CopyPacing {
    /** How far a job may run ahead of its rate: one tenth of a second of traffic. */
    long BURST_NANOS = 100_000_000L;

    /** Counts {@code bytes} the job has just copied. */
    void charge(long bytes);

    /** Nanoseconds to wait before the next copy; the job asks again after waiting. */
    long delayNanos();

    /**
     * The most the next copy may move, given the job's chunk size {@code preferredBytes}: a pacer
     * may ask for smaller copies, which hold the disk for less time. The job rounds it up to whole
     * clusters of the top.
     */
    default long chunkBytes(long preferredBytes) {
        return preferredBytes;
    }

    /** Sets the speed limit in bytes per second; 0 = unlimited. */
    void setLimit(long bytesPerSecond);

    /** The speed limit in bytes per second; 0 = unlimited. */
    long limit();

    /** Pacing by the speed limit alone. */
    static CopyPacing atLimit(TimeSource time, long bytesPerSecond) {
        TokenBucket bucket = new TokenBucket(time, bytesPerSecond, BURST_NANOS);
        return new CopyPacing() {
            @Override
            public void charge(long bytes) {
                bucket.charge(bytes);
            }

            @Override
            public long delayNanos() {
                return bucket.delayNanos();
            }

            @Override
            public void setLimit(long newBytesPerSecond) {
                bucket.setRate(newBytesPerSecond);
            }

            @Override
            public long limit() {
                return bucket.rate();
            }
        };
    }
}
