package io.siphon.job;

import java.time.Duration;
import java.util.Optional;

/**
 * How far a job is, in bytes: {@code curBytes} of {@code endBytes} done (cur never decreases), of
 * which {@code copiedBytes} were actually moved (the rest was skipped), the average copy rate in
 * bytes per second since the job started (paused time excluded), and the estimated time left at
 * the pace so far, when there is one. Immutable.
 */
public record Progress(
        long curBytes, long endBytes, long copiedBytes, long bytesPerSecond, Optional<Duration> remaining) {
    public Progress {
        if (curBytes < 0 || endBytes < 0 || copiedBytes < 0 || bytesPerSecond < 0) {
            throw new IllegalArgumentException("negative progress: cur " + curBytes + ", end " + endBytes + ", copied "
                    + copiedBytes + ", rate " + bytesPerSecond);
        }
    }

    /** Whether all the work is done. */
    public boolean isDone() {
        return curBytes >= endBytes;
    }
}
