package io.siphon.daemon;

import io.siphon.api.BlockJobInfo;
import io.siphon.api.BlockJobProgress;
import java.io.IOException;

/**
 * A pull running on one disk of a started domain, as {@link DiskPulls} drives it; the engine's
 * job ends by calling the {@link PullJobs.EndListener} it was started with. Thread-safe.
 */
interface PullJob {
    BlockJobInfo info();

    void setSpeed(long bytesPerSecond);

    void pause();

    void resume();

    /** Asks the job to stop; it ends (CANCELED) once the request in flight is done. */
    void cancel();

    /** Copies one increment of a stepped job and says where it stands. */
    BlockJobProgress step() throws IOException;

    /** Whether the job copies only when stepped. */
    boolean stepped();

    /**
     * Turns a stepped job into a background pull at {@code bytesPerSecond} (0 for no limit) that
     * continues where the steps stopped; returns the job as it now is.
     */
    PullJob continueInBackground(long bytesPerSecond);
}
