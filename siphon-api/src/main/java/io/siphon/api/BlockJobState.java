package io.siphon.api;

/** What a block job is doing now. */
public enum BlockJobState {
    /** Copying in the background. */
    RUNNING,
    /** Paused by {@code blockJobPause}; copies nothing until resumed. */
    PAUSED,
    /** Started by {@code blockPullStep}: copies one increment per step call. */
    STEPPING,
    /** Cancelled, finishing the request in flight. */
    ABORTING
}
