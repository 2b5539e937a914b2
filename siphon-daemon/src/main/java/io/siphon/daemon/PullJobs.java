package io.siphon.daemon;

import io.siphon.api.BlockJobInfo;
import io.siphon.api.BlockJobProgress;
import io.siphon.api.BlockJobState;
import io.siphon.api.BlockJobStatus;
import io.siphon.api.BlockJobType;
import io.siphon.api.ErrorCode;
import io.siphon.api.PullPhase;
import io.siphon.api.PullStrategy;
import io.siphon.api.SiphonException;
import io.siphon.blockjob.OutagePolicy;
import io.siphon.blockjob.PrefetchPlan;
import io.siphon.blockjob.StreamJob;
import io.siphon.blockjob.StreamOptions;
import io.siphon.job.Job;
import io.siphon.job.JobCancelledException;
import io.siphon.job.JobEvent;
import io.siphon.job.JobFailedException;
import io.siphon.job.JobInfo;
import io.siphon.job.JobStateException;
import io.siphon.job.JobStatus;
import io.siphon.job.Progress;
import io.siphon.util.TimeSource;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.function.Supplier;

/** Starts pulls on the engine ({@link StreamJob}) and presents them as {@link PullJob}s. Thread-safe. */
final class PullJobs {
    private PullJobs() {}

    /** Called once when a job ends, on the thread that ended it. */
    @FunctionalInterface
    interface EndListener {
        void ended(BlockJobStatus status, Optional<String> error);
    }

    /**
     * The engine's options for a pull asked for through the API: the base (a path, relative to this
     * process's directory, named absolutely in the options) and the speed are checked here, once;
     * the engine finds the base in the chain when the job is created.
     */
    static StreamOptions options(
            Optional<String> base, long bytesPerSecond, boolean keepRelative, PullStrategy strategy) {
        try {
            StreamOptions options = StreamOptions.defaults()
                    .withSpeed(bytesPerSecond)
                    .withPace(
                            switch (strategy.pace()) {
                                case LIMIT -> StreamOptions.Pace.LIMIT;
                                case GUEST -> StreamOptions.Pace.guest(strategy.guestLatencyFactor());
                            })
                    .withOrder(
                            switch (strategy.order()) {
                                case OFFSET -> StreamOptions.Order.OFFSET;
                                case PROFILE -> StreamOptions.Order.PROFILE;
                            })
                    .withOnOutage(
                            switch (strategy.outage()) {
                                case PAUSE -> OutagePolicy.PAUSE;
                                case FAIL -> OutagePolicy.ON_ERROR;
                            });
            return base.isEmpty()
                    ? options
                    : options.withBase(Path.of(base.get()).toAbsolutePath(), keepRelative);
        } catch (IllegalArgumentException e) {
            throw new SiphonException(ErrorCode.INVALID_ARG, e.getMessage(), e);
        }
    }

    /**
     * Creates the job on {@code disk}, copying {@code prefetch} first, and starts it in the
     * background unless {@code stepped}.
     */
    static PullJob start(
            RunningDisk disk, StreamOptions options, PrefetchPlan prefetch, boolean stepped, EndListener onEnd) {
        Job job;
        try {
            job = StreamJob.create(disk.disk(), options, prefetch, TimeSource.SYSTEM);
        } catch (IllegalArgumentException e) {
            throw new SiphonException(ErrorCode.INVALID_ARG, "disk " + disk.target() + ": " + e.getMessage(), e);
        } catch (IllegalStateException e) {
            throw new SiphonException(ErrorCode.JOB_EXISTS, e.getMessage(), e);
        } catch (IOException e) {
            // the engine compares the base with each image of the chain by file: a missing one is none
            boolean missingBase = e instanceof NoSuchFileException missing
                    && options.base().map(Path::toString).equals(Optional.ofNullable(missing.getFile()));
            throw missingBase
                    ? new SiphonException(
                            ErrorCode.INVALID_ARG,
                            "disk " + disk.target() + ": base " + options.base().get()
                                    + " does not exist, so it is not below the top in the chain",
                            e)
                    : new SiphonException(
                            ErrorCode.OPERATION_FAILED, "disk " + disk.target() + ": " + e.getMessage(), e);
        }
        job.addListener(event -> {
            switch (event) {
                case JobEvent.Completed c -> onEnd.ended(BlockJobStatus.COMPLETED, Optional.empty());
                case JobEvent.Failed f -> onEnd.ended(BlockJobStatus.FAILED, Optional.of(f.message()));
                case JobEvent.Cancelled c -> onEnd.ended(BlockJobStatus.CANCELED, Optional.empty());
                default -> {}
            }
        });
        if (!stepped) {
            job.start();
        }
        return new EngineJob(
                disk.target(), job, prefetch, stepped, disk.device().sizeBytes());
    }

    /** A {@link Job} of the engine seen through the API's words. */
    private record EngineJob(String target, Job job, PrefetchPlan prefetch, boolean stepped, long sizeBytes)
            implements PullJob {
        @Override
        public BlockJobInfo info() {
            JobInfo info = job.info();
            Progress progress = info.progress();
            BlockJobState state;
            if (info.status() == JobStatus.ABORTING) {
                state = BlockJobState.ABORTING;
            } else if (info.pausedByUser()
                    || (info.status() == JobStatus.PAUSED && info.error().isPresent())) {
                // a resumed job shows PAUSED until its thread wakes: the user's view is what counts
                state = BlockJobState.PAUSED;
            } else {
                state = stepped ? BlockJobState.STEPPING : BlockJobState.RUNNING;
            }
            // the engine learns the end when its loop starts; until then it is the disk's size
            long end = progress.endBytes() > 0 ? progress.endBytes() : sizeBytes;
            return new BlockJobInfo(
                    BlockJobType.PULL,
                    info.speedBytesPerSecond(),
                    Math.min(progress.curBytes(), end),
                    end,
                    state,
                    progress.bytesPerSecond(),
                    progress.remaining(),
                    Optional.of(
                            switch (prefetch.phase()) {
                                case PROFILE -> PullPhase.PROFILE;
                                case OFFSET -> PullPhase.OFFSET;
                            }),
                    // paused by the engine (an outage, an error under a stop policy): the error says why
                    state == BlockJobState.PAUSED ? info.error() : Optional.empty());
        }

        @Override
        public void setSpeed(long bytesPerSecond) {
            verb(() -> {
                job.setSpeed(bytesPerSecond);
                return null;
            });
        }

        @Override
        public void pause() {
            verb(() -> {
                if (job.info().pausedByUser()) {
                    throw new SiphonException(
                            ErrorCode.OPERATION_INVALID, "the pull of disk " + target + " is already paused");
                }
                job.pause();
                return null;
            });
        }

        @Override
        public void resume() {
            verb(() -> {
                job.resume();
                return null;
            });
        }

        @Override
        public void cancel() {
            verb(() -> {
                try {
                    job.cancel(false);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return null;
            });
        }

        @Override
        public BlockJobProgress step() throws IOException {
            if (!stepped) {
                throw new SiphonException(
                        ErrorCode.JOB_EXISTS,
                        "disk " + target + " already has a background pull; it cannot be stepped");
            }
            try {
                Progress progress = stepOnce();
                return new BlockJobProgress(
                        Math.min(progress.curBytes(), progress.endBytes()), progress.endBytes(), progress.isDone());
            } catch (JobFailedException e) {
                throw new IOException(e.getCause() != null ? e.getCause().getMessage() : e.getMessage(), e);
            } catch (JobCancelledException e) {
                throw new SiphonException(ErrorCode.OPERATION_INVALID, "the pull of disk " + target + " was cancelled");
            }
        }

        @Override
        public PullJob continueInBackground(long bytesPerSecond) {
            return verb(() -> {
                job.setSpeed(bytesPerSecond);
                job.continueInBackground();
                return new EngineJob(target, job, prefetch, false, sizeBytes);
            });
        }

        private Progress stepOnce() throws JobFailedException, JobCancelledException {
            try {
                return job.step();
            } catch (JobStateException e) {
                throw new SiphonException(ErrorCode.OPERATION_INVALID, "disk " + target + ": " + e.getMessage(), e);
            }
        }

        private <T> T verb(Supplier<T> call) {
            try {
                return call.get();
            } catch (JobStateException e) {
                throw new SiphonException(ErrorCode.OPERATION_INVALID, "disk " + target + ": " + e.getMessage(), e);
            }
        }
    }
}
