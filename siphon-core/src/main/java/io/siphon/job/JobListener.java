package io.siphon.job;

/**
 * Receives a job's events. Called on the job's thread (or the caller's, for a step or a cancel), so
 * it should return quickly; an exception it throws is logged and does not stop the job.
 */
@FunctionalInterface
public interface JobListener {
    void onEvent(JobEvent event);
}
