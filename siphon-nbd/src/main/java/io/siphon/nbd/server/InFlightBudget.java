package io.siphon.nbd.server;

import java.time.Duration;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * The memory that NBD requests in flight may hold at once (WRITE payloads and READ reply data),
 * shared by every connection of every server that uses it. A connection's reader takes a request's
 * share before it reads the request's payload or runs it, and waits while the budget is spent, so
 * that a flood of requests stops being read (backpressure on the socket) rather than allocating.
 * Fair: connections are served in the order they asked. Thread-safe.
 */
public final class InFlightBudget {
    /** The process-wide budget's size unless {@link #configureProcess} is called first. */
    public static final long DEFAULT_BYTES = 256L << 20;

    private static final int UNIT_BYTES = 1024;
    private static final Object PROCESS_LOCK = new Object();
    private static long processBytes = DEFAULT_BYTES;
    private static InFlightBudget process;

    private final long bytes;
    private final Semaphore units;

    /** A budget of {@code bytes} (at least the largest request, 32 MiB). */
    public InFlightBudget(long bytes) {
        if (bytes < WireLimits.MAX_PAYLOAD_BYTES || bytes / UNIT_BYTES > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("NBD in-flight memory budget of " + bytes
                    + " bytes is not in " + WireLimits.MAX_PAYLOAD_BYTES + ".." + (long) Integer.MAX_VALUE * UNIT_BYTES
                    + " (the largest request must fit)");
        }
        this.bytes = bytes;
        this.units = new Semaphore((int) (bytes / UNIT_BYTES), true);
    }

    /**
     * Sets the size of the process-wide budget; call before the first server starts. Setting a
     * different size once it is in use is an {@link IllegalStateException}.
     */
    public static void configureProcess(long bytes) {
        new InFlightBudget(bytes); // validates
        synchronized (PROCESS_LOCK) {
            if (process != null && process.bytes != bytes) {
                throw new IllegalStateException("the NBD in-flight memory budget is already in use with "
                        + process.bytes + " bytes; cannot change it to " + bytes);
            }
            processBytes = bytes;
        }
    }

    /** The budget every server shares unless built with its own. */
    public static InFlightBudget process() {
        synchronized (PROCESS_LOCK) {
            if (process == null) {
                process = new InFlightBudget(processBytes);
            }
            return process;
        }
    }

    public long bytes() {
        return bytes;
    }

    /** Bytes not taken now. */
    public long availableBytes() {
        return (long) units.availablePermits() * UNIT_BYTES;
    }

    /** Takes {@code costBytes}, waiting at most {@code wait}; false when it could not. */
    boolean tryTake(int costBytes, Duration wait) throws InterruptedException {
        return units.tryAcquire(unitsOf(costBytes), wait.toNanos(), TimeUnit.NANOSECONDS);
    }

    /** Gives back what {@link #tryTake} took for {@code costBytes}. */
    void give(int costBytes) {
        units.release(unitsOf(costBytes));
    }

    private static int unitsOf(int costBytes) {
        return (costBytes + UNIT_BYTES - 1) / UNIT_BYTES;
    }
}
