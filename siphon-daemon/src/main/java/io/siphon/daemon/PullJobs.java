package io.siphon.daemon;

import io.siphon.api.BlockJobStatus;
import io.siphon.api.ErrorCode;
import io.siphon.api.SiphonException;
import java.util.Optional;

/** Starts pulls on the engine ({@code io.siphon.blockjob.StreamJob}). Thread-safe. */
final class PullJobs {
    private PullJobs() {}

    /** Called once when a job ends, on the job's thread. */
    @FunctionalInterface
    interface EndListener {
        void ended(BlockJobStatus status, Optional<String> error);
    }

    /**
     * What to pull.
     *
     * @param baseIndex index in the chain of the base (images {@code [1, baseIndex)} are pulled and
     *     dropped); the chain's length for a full pull
     * @param backingName the backing name the top records afterwards, empty for none
     * @param bytesPerSecond the speed limit, 0 for none
     * @param stepped whether the job copies only when stepped
     */
    record Request(int baseIndex, Optional<String> backingName, long bytesPerSecond, boolean stepped) {}

    /** Starts {@code request} on {@code disk}. */
    static PullJob start(RunningDisk disk, Request request, EndListener onEnd) {
        throw new SiphonException(
                ErrorCode.NO_SUPPORT,
                "disk " + disk.target() + ": the block pull engine (io.siphon.blockjob) is not in this build yet");
    }
}
