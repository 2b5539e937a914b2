package io.siphon.blockjob;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * How a pull runs. Immutable.
 *
 * @param bytesPerSecond speed limit on the bytes the job copies; 0 = unlimited
 * @param base the image the pull stops at (it and what is below it stay the top's backing), or
 *     empty for a full pull
 * @param keepRelative store the new backing name relative to the top's directory (libvirt's
 *     --keep-relative), else absolute
 * @param onError what a failed copy does
 * @param chunkBytes how much one copy request moves at most (rounded up to the top's cluster size)
 * @param stepBytes how much data one {@code step()} copies (ranges skipped do not count)
 * @param onOutage what an unreachable remote template does to the pull (by default it pauses)
 */
public record StreamOptions(
        long bytesPerSecond,
        Optional<Path> base,
        boolean keepRelative,
        OnErrorPolicy onError,
        long chunkBytes,
        long stepBytes,
        OutagePolicy onOutage) {
    public static final long DEFAULT_CHUNK_BYTES = 1 << 20;
    public static final long DEFAULT_STEP_BYTES = 1 << 20;

    public StreamOptions {
        Objects.requireNonNull(base, "base");
        Objects.requireNonNull(onError, "onError");
        Objects.requireNonNull(onOutage, "onOutage");
        if (bytesPerSecond < 0) {
            throw new IllegalArgumentException("speed must not be negative, got " + bytesPerSecond + " bytes/s");
        }
        if (chunkBytes <= 0 || chunkBytes > 1 << 30) {
            throw new IllegalArgumentException("chunk size must be in (0, 1 GiB], got " + chunkBytes);
        }
        if (stepBytes <= 0) {
            throw new IllegalArgumentException("step size must be positive, got " + stepBytes);
        }
    }

    public StreamOptions(
            long bytesPerSecond,
            Optional<Path> base,
            boolean keepRelative,
            OnErrorPolicy onError,
            long chunkBytes,
            long stepBytes) {
        this(bytesPerSecond, base, keepRelative, onError, chunkBytes, stepBytes, OutagePolicy.PAUSE);
    }

    /** A full, unlimited pull that fails on the first error. */
    public static StreamOptions defaults() {
        return new StreamOptions(
                0, Optional.empty(), false, OnErrorPolicy.REPORT, DEFAULT_CHUNK_BYTES, DEFAULT_STEP_BYTES);
    }

    public StreamOptions withSpeed(long newBytesPerSecond) {
        return new StreamOptions(newBytesPerSecond, base, keepRelative, onError, chunkBytes, stepBytes, onOutage);
    }

    public StreamOptions withBase(Path newBase, boolean newKeepRelative) {
        return new StreamOptions(
                bytesPerSecond, Optional.of(newBase), newKeepRelative, onError, chunkBytes, stepBytes, onOutage);
    }

    public StreamOptions withOnError(OnErrorPolicy policy) {
        return new StreamOptions(bytesPerSecond, base, keepRelative, policy, chunkBytes, stepBytes, onOutage);
    }

    public StreamOptions withChunkBytes(long newChunkBytes) {
        return new StreamOptions(bytesPerSecond, base, keepRelative, onError, newChunkBytes, stepBytes, onOutage);
    }

    public StreamOptions withStepBytes(long newStepBytes) {
        return new StreamOptions(bytesPerSecond, base, keepRelative, onError, chunkBytes, newStepBytes, onOutage);
    }

    public StreamOptions withOnOutage(OutagePolicy policy) {
        return new StreamOptions(bytesPerSecond, base, keepRelative, onError, chunkBytes, stepBytes, policy);
    }
}
