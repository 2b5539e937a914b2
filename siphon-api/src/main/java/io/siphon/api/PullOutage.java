package io.siphon.api;

/** What a pull does while the disk's remote template stays unreachable past its read timeout. */
public enum PullOutage {
    /**
     * Pauses (status paused, an error event, the reason in the job's info) and tries the range
     * again until the store answers, then resumes by itself.
     */
    PAUSE,
    /** Fails the job with the read's error, as any other error. */
    FAIL
}
