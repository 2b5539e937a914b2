package io.siphon.job;

/** Thrown at a pause point of a job that was cancelled, to unwind its work. */
public final class JobCancelledException extends Exception {
    public JobCancelledException(String jobId) {
        super("job '" + jobId + "' was cancelled");
    }
}
