package io.siphon.job;

/** A job that failed while the caller waited for it (a single step), with the job's error as cause. */
public final class JobFailedException extends Exception {
    public JobFailedException(String jobId, Throwable cause) {
        super("job '" + jobId + "' failed: " + cause.getMessage(), cause);
    }
}
