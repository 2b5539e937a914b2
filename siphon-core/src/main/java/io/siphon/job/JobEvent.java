package io.siphon.job;

import java.util.Optional;

/**
 * Something that happened to a job, delivered to its listeners in order on the thread that caused
 * it. Every event names the job, its type (e.g. "stream"), the device it works on, the status after
 * the event and the progress; failures carry the error. Immutable.
 */
public sealed interface JobEvent {
    String jobId();

    String jobType();

    String device();

    JobStatus status();

    long curBytes();

    long endBytes();

    /** The error message, for events about an error. */
    default Optional<String> error() {
        return Optional.empty();
    }

    /** The job moved to {@link #status()}. */
    record StatusChanged(String jobId, String jobType, String device, JobStatus status, long curBytes, long endBytes)
            implements JobEvent {}

    /** An error occurred; with {@code stopped} the job paused itself until resumed, else it goes on or fails. */
    record ErrorReported(
            String jobId,
            String jobType,
            String device,
            JobStatus status,
            long curBytes,
            long endBytes,
            String message,
            boolean stopped)
            implements JobEvent {
        @Override
        public Optional<String> error() {
            return Optional.of(message);
        }
    }

    /** The job finished its work and committed it. */
    record Completed(String jobId, String jobType, String device, JobStatus status, long curBytes, long endBytes)
            implements JobEvent {}

    /** The job failed; what it changed was undone or never made visible. */
    record Failed(
            String jobId, String jobType, String device, JobStatus status, long curBytes, long endBytes, String message)
            implements JobEvent {
        @Override
        public Optional<String> error() {
            return Optional.of(message);
        }
    }

    /** The job was cancelled before it finished. */
    record Cancelled(String jobId, String jobType, String device, JobStatus status, long curBytes, long endBytes)
            implements JobEvent {}
}
