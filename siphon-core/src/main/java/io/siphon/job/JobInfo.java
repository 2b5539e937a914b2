package io.siphon.job;

import java.util.Optional;

/**
 * A snapshot of a job, as a query returns it: what it is, where it is, its progress and speed limit
 * (bytes per second, 0 = unlimited), whether the user paused it, and the error that stopped or
 * failed it. Immutable.
 */
public record JobInfo(
        String id,
        String type,
        String device,
        JobStatus status,
        Progress progress,
        long speedBytesPerSecond,
        boolean pausedByUser,
        Optional<String> error) {}
