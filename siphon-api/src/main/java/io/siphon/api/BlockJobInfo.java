package io.siphon.api;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * A block job's progress, as {@code virDomainGetBlockJobInfo} plus state, rate and ETA.
 *
 * @param type the job's kind
 * @param bandwidthBytesPerSecond the speed limit in bytes per second, 0 for none
 * @param curBytes bytes of the disk processed so far, at most {@code endBytes}
 * @param endBytes bytes of the disk the job processes in all
 * @param state what the job is doing now
 * @param rateBytesPerSecond the recent copy rate in bytes per second
 * @param eta estimated time to completion at the recent rate, empty when unknown
 * @param phase which part of its work a pull is in, empty when the driver does not say
 * @param pauseReason why a job the user did not pause is paused (a remote template unreachable, an
 *     error under a stop policy), empty otherwise
 */
public record BlockJobInfo(
        BlockJobType type,
        long bandwidthBytesPerSecond,
        long curBytes,
        long endBytes,
        BlockJobState state,
        long rateBytesPerSecond,
        Optional<Duration> eta,
        Optional<PullPhase> phase,
        Optional<String> pauseReason) {
    public BlockJobInfo {
        Objects.requireNonNull(phase, "phase");
        Objects.requireNonNull(pauseReason, "pauseReason");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(eta, "eta");
        if (bandwidthBytesPerSecond < 0 || curBytes < 0 || endBytes < 0 || rateBytesPerSecond < 0) {
            throw new IllegalArgumentException("negative figure in block job info: bandwidth "
                    + bandwidthBytesPerSecond + ", cur " + curBytes + ", end " + endBytes + ", rate "
                    + rateBytesPerSecond);
        }
    }

    /** Job info without a phase or a pause reason. */
    public BlockJobInfo(
            BlockJobType type,
            long bandwidthBytesPerSecond,
            long curBytes,
            long endBytes,
            BlockJobState state,
            long rateBytesPerSecond,
            Optional<Duration> eta) {
        this(
                type,
                bandwidthBytesPerSecond,
                curBytes,
                endBytes,
                state,
                rateBytesPerSecond,
                eta,
                Optional.empty(),
                Optional.empty());
    }

    /** The speed limit in MiB/s as libvirt reports it without the BYTES flag (rounded up; 0 for none). */
    public long bandwidthMiBPerSecond() {
        return Bandwidth.toMiBPerSecond(bandwidthBytesPerSecond);
    }
}
