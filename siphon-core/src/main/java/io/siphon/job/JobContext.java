package io.siphon.job;

import io.siphon.util.TimeSource;

/**
 * A running job's view of the engine, used by its driver: pause points, waits that wake on
 * commands, progress and errors. Used by the one thread running the driver at a time.
 */
public interface JobContext {
    /** The job's id. */
    String jobId();

    /** The job's clock. */
    TimeSource time();

    /**
     * Returns at once unless the job was paused (then waits for resume) or cancelled (then throws),
     * so that pause and cancel take effect between units of work.
     */
    void pausePoint() throws JobCancelledException;

    /**
     * Waits up to {@code nanos} (e.g. for the rate limit), returning early when the job is paused,
     * cancelled or its speed changes; then passes a pause point.
     */
    void sleep(long nanos) throws JobCancelledException;

    /** Sets the total amount of work in bytes. */
    void setEnd(long endBytes);

    /** Records {@code doneBytes} more of the work as done, {@code copiedBytes} of it actually moved. */
    void advance(long doneBytes, long copiedBytes);

    /**
     * Reports an error to listeners. With {@code stop}, the job then pauses in the error state and
     * this returns when the user resumes it (the driver retries) or throws when it is cancelled.
     */
    void reportError(Throwable error, boolean stop) throws JobCancelledException;

    /** Asks whether what stopped a job has gone away (e.g. a remote store answers again). */
    @FunctionalInterface
    interface RecoveryProbe {
        boolean recovered();
    }

    /**
     * Reports {@code error} and pauses the job in the error state, as {@link #reportError} with stop
     * does, but resumes by itself as soon as {@code probe} says the cause is gone; it is asked every
     * {@code probeIntervalNanos} while paused. The user may still resume or cancel the job meanwhile.
     */
    void pauseUntil(Throwable error, long probeIntervalNanos, RecoveryProbe probe) throws JobCancelledException;
}
