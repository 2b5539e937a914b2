package io.siphon.job;

/** A verb the job's status (or mode) does not allow, naming the job, the verb and the status. */
public final class JobStateException extends IllegalStateException {
    private final String jobId;
    private final JobStatus status;

    public JobStateException(String jobId, JobStatus status, String detail) {
        super("job '" + jobId + "' (status " + status.name().toLowerCase(java.util.Locale.ROOT) + "): " + detail);
        this.jobId = jobId;
        this.status = status;
    }

    public String jobId() {
        return jobId;
    }

    public JobStatus status() {
        return status;
    }
}
