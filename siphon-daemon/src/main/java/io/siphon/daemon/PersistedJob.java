package io.siphon.daemon;

import java.util.Objects;
import java.util.Optional;

/**
 * A pull recorded in the state directory while it runs, so that it resumes when its domain starts
 * after a daemon restart.
 *
 * @param disk the disk's target
 * @param base the base image's path as the chain names it, or empty for a full pull
 * @param keepRelative whether the top records the base by the chain's (relative) name
 * @param bytesPerSecond the speed limit, 0 for none
 */
record PersistedJob(String disk, Optional<String> base, boolean keepRelative, long bytesPerSecond) {
    PersistedJob {
        Objects.requireNonNull(disk, "disk");
        Objects.requireNonNull(base, "base");
        if (bytesPerSecond < 0) {
            throw new IllegalArgumentException("bytesPerSecond " + bytesPerSecond + " < 0");
        }
    }

    PersistedJob withSpeed(long newBytesPerSecond) {
        return new PersistedJob(disk, base, keepRelative, newBytesPerSecond);
    }
}
