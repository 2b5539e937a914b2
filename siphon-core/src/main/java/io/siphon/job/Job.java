package io.siphon.job;

import io.siphon.util.TimeSource;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One job: its status machine (moves only along {@link JobStatus}'s table, verbs only as {@link
 * JobVerb}'s table allows), its progress, and the thread that runs its driver. A job runs either in
 * the background on its own thread ({@link #start}) or one increment per {@link #step} call, not
 * both. Finished jobs conclude and are dismissed automatically. Thread-safe.
 */
public final class Job {
    private static final Logger LOG = LoggerFactory.getLogger(Job.class);

    private enum Mode {
        NOT_STARTED,
        BACKGROUND,
        STEPS
    }

    private final String id;
    private final String device;
    private final JobDriver driver;
    private final TimeSource time;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final List<JobListener> listeners = new CopyOnWriteArrayList<>();
    private final Context context = new Context();

    // guarded by lock
    private JobStatus status = JobStatus.UNDEFINED;
    private Mode mode = Mode.NOT_STARTED;
    private boolean stepRunning;
    private boolean pauseRequested;
    private boolean cancelRequested;
    private long kicks;
    private Optional<String> error = Optional.empty();
    private long runningNanos;
    private long runningSinceNanos = -1;
    private boolean ended;

    private volatile long curBytes;
    private volatile long endBytes;
    private volatile long copiedBytes;

    /** A new job in status CREATED; add listeners, then {@link #start} or {@link #step} it. */
    public Job(String id, String device, JobDriver driver, TimeSource time) {
        this.id = Objects.requireNonNull(id, "id");
        this.device = Objects.requireNonNull(device, "device");
        this.driver = Objects.requireNonNull(driver, "driver");
        this.time = Objects.requireNonNull(time, "time");
        transition(JobStatus.CREATED);
    }

    public String id() {
        return id;
    }

    public String type() {
        return driver.type();
    }

    public String device() {
        return device;
    }

    /** Adds a listener for events from now on. */
    public void addListener(JobListener listener) {
        listeners.add(Objects.requireNonNull(listener, "listener"));
    }

    public void removeListener(JobListener listener) {
        listeners.remove(listener);
    }

    public JobStatus status() {
        lock.lock();
        try {
            return status;
        } finally {
            lock.unlock();
        }
    }

    /** A snapshot of the job. */
    public JobInfo info() {
        lock.lock();
        try {
            return new JobInfo(id, type(), device, status, progress(), driver.speed(), pauseRequested, error);
        } finally {
            lock.unlock();
        }
    }

    /** The progress now; rate and time left count running time only. */
    public Progress progress() {
        long cur = curBytes;
        long end = endBytes;
        long copied = copiedBytes;
        long elapsed;
        lock.lock();
        try {
            elapsed = runningNanos + (runningSinceNanos >= 0 ? time.nanoTime() - runningSinceNanos : 0);
        } finally {
            lock.unlock();
        }
        long rate = elapsed > 0 ? (long) (copied * 1e9 / elapsed) : 0;
        Optional<Duration> remaining = Optional.empty();
        if (cur >= end) {
            remaining = Optional.of(Duration.ZERO);
        } else if (cur > 0 && elapsed > 0) {
            remaining = Optional.of(Duration.ofNanos((long) ((double) (end - cur) * elapsed / cur)));
        }
        return new Progress(cur, end, copied, rate, remaining);
    }

    /** Starts the job in the background on its own platform thread. */
    public void start() {
        lock.lock();
        try {
            if (status != JobStatus.CREATED || mode != Mode.NOT_STARTED) {
                throw new JobStateException(
                        id,
                        status,
                        "can only be started once, from created"
                                + (mode == Mode.STEPS ? "; it is being pulled step by step" : ""));
            }
            mode = Mode.BACKGROUND;
        } finally {
            lock.unlock();
        }
        transition(JobStatus.RUNNING);
        // A platform thread, not a virtual one: the OS time-slices it against busy request threads,
        // where a virtual job thread waits for a free carrier and falls far below its speed limit
        // while guest I/O keeps both carriers busy (bench/pull.sh, rate with guest readers flat out).
        Thread.ofPlatform().daemon().name("job-" + id).start(this::runInBackground);
    }

    /**
     * Moves a job run by {@link #step} to the background: the driver's {@code run} continues from
     * where the steps left it, with the progress counted so far (the 2011 API's single increments and
     * the whole-device pull are one job). Refused unless the job was stepped and no step runs now.
     */
    public void continueInBackground() {
        boolean paused;
        lock.lock();
        try {
            if (mode != Mode.STEPS || stepRunning || (status != JobStatus.RUNNING && status != JobStatus.PAUSED)) {
                throw new JobStateException(
                        id, status, "only a stepped job between steps can continue in the background");
            }
            mode = Mode.BACKGROUND;
            paused = status == JobStatus.PAUSED;
        } finally {
            lock.unlock();
        }
        if (paused) {
            transition(JobStatus.RUNNING); // the pause request stands: the job pauses at its first pause point
        }
        Thread.ofPlatform().daemon().name("job-" + id).start(this::runInBackground);
    }

    /**
     * Runs the next increment in the caller's thread and returns the progress after it; the
     * increment that completes the work also finishes the job (prepare, commit, events). Refused
     * while the job runs in the background or another step runs.
     */
    public Progress step() throws JobFailedException, JobCancelledException {
        lock.lock();
        try {
            requireVerb(JobVerb.STEP);
            if (mode == Mode.BACKGROUND) {
                throw new JobStateException(id, status, "runs in the background; a single step cannot run beside it");
            }
            if (stepRunning) {
                throw new JobStateException(id, status, "another step is running");
            }
            mode = Mode.STEPS;
            stepRunning = true;
        } finally {
            lock.unlock();
        }
        if (status() == JobStatus.CREATED) {
            transition(JobStatus.RUNNING);
        }
        boolean done = false;
        boolean cancelled = false;
        Throwable failure = null;
        try {
            done = driver.step(context);
        } catch (JobCancelledException e) {
            cancelled = true;
        } catch (Throwable t) {
            failure = t;
        }
        lock.lock();
        try {
            stepRunning = false;
        } finally {
            lock.unlock();
        }
        if (done || cancelled || failure != null) {
            finish(cancelled, failure);
        }
        if (failure != null) {
            throw new JobFailedException(id, failure);
        }
        if (cancelled) {
            throw new JobCancelledException(id);
        }
        return progress();
    }

    /** Pauses the job at its next pause point (at once when it is between steps). */
    public void pause() {
        boolean pauseNow;
        lock.lock();
        try {
            requireVerb(JobVerb.PAUSE);
            pauseRequested = true;
            kick();
            pauseNow = mode == Mode.STEPS && !stepRunning && status == JobStatus.RUNNING;
        } finally {
            lock.unlock();
        }
        if (pauseNow) {
            transition(JobStatus.PAUSED);
        }
    }

    /** Resumes a job paused by the user or stopped by an error (which it then retries). */
    public void resume() {
        boolean resumeNow;
        lock.lock();
        try {
            requireVerb(JobVerb.RESUME);
            if (!pauseRequested) {
                throw new JobStateException(id, status, "cannot resume a job that is not paused");
            }
            pauseRequested = false;
            error = Optional.empty();
            kick();
            resumeNow = mode == Mode.STEPS && !stepRunning && status == JobStatus.PAUSED;
        } finally {
            lock.unlock();
        }
        if (resumeNow) {
            transition(JobStatus.RUNNING);
        }
    }

    /** Changes the speed limit in bytes per second (0 = unlimited); a waiting job re-checks at once. */
    public void setSpeed(long bytesPerSecond) {
        if (bytesPerSecond < 0) {
            throw new IllegalArgumentException("speed must not be negative, got " + bytesPerSecond + " bytes/s");
        }
        lock.lock();
        try {
            requireVerb(JobVerb.SET_SPEED);
            driver.setSpeed(bytesPerSecond);
            kick();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Cancels the job: its work stops at the next pause point, it aborts and sends a CANCELLED event.
     * With {@code wait}, returns once the job is gone; else at once.
     */
    public void cancel(boolean wait) throws InterruptedException {
        boolean finishHere;
        lock.lock();
        try {
            requireVerb(JobVerb.CANCEL);
            cancelRequested = true;
            kick();
            finishHere = mode == Mode.NOT_STARTED || (mode == Mode.STEPS && !stepRunning);
            if (finishHere) {
                // No thread is inside the driver: the caller's thread winds the job down.
                mode = Mode.STEPS;
                stepRunning = true;
            }
        } finally {
            lock.unlock();
        }
        if (finishHere) {
            if (status() == JobStatus.PAUSED) {
                transition(JobStatus.RUNNING);
            }
            finish(true, null);
        } else if (wait) {
            awaitEnd(Duration.ofDays(365));
        }
    }

    /**
     * Waits until the job is dismissed and its last event delivered, or {@code timeout} passes;
     * returns whether it ended.
     */
    public boolean awaitEnd(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        lock.lock();
        try {
            while (!ended) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                changed.await(left, TimeUnit.NANOSECONDS);
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Waits until the job is in {@code wanted} or {@code timeout} passes; returns whether it is. */
    public boolean awaitStatus(JobStatus wanted, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        lock.lock();
        try {
            while (status != wanted) {
                long left = deadline - System.nanoTime();
                if (left <= 0 || (status == JobStatus.NULL && wanted != JobStatus.NULL)) {
                    return false;
                }
                changed.await(left, TimeUnit.NANOSECONDS);
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    private void requireVerb(JobVerb verb) {
        if (!verb.allowedIn(status)) {
            throw new JobStateException(
                    id, status, verb.name().toLowerCase(java.util.Locale.ROOT) + " is not allowed now");
        }
    }

    private void kick() {
        kicks++;
        changed.signalAll();
    }

    private void runInBackground() {
        boolean cancelled = false;
        Throwable failure = null;
        try {
            driver.run(context);
        } catch (JobCancelledException e) {
            cancelled = true;
        } catch (Throwable t) {
            failure = t;
        }
        finish(cancelled, failure);
    }

    /** Prepare, then commit or abort, then clean, conclude, send the outcome, dismiss. */
    private void finish(boolean cancelled, Throwable failure) {
        lock.lock();
        try {
            cancelled |= cancelRequested && failure == null;
        } finally {
            lock.unlock();
        }
        if (!cancelled && failure == null) {
            transition(JobStatus.WAITING);
            transition(JobStatus.PENDING);
            try {
                driver.prepare();
            } catch (Throwable t) {
                failure = t;
            }
        }
        boolean success = !cancelled && failure == null;
        if (success) {
            quietly("commit", driver::commit);
        } else {
            transition(JobStatus.ABORTING);
            quietly("abort", driver::abort);
        }
        quietly("clean", driver::clean);
        if (failure != null) {
            if (failure instanceof IOException) {
                // an I/O or image error is what went wrong, not a bug: one line, no trace
                LOG.warn("job '{}' on {} failed: {}", id, device, failure.toString());
            } else {
                LOG.warn("job '{}' on {} failed", id, device, failure);
            }
            String message = failure.getMessage() != null
                    ? failure.getMessage()
                    : failure.getClass().getSimpleName();
            lock.lock();
            try {
                error = Optional.of(message);
            } finally {
                lock.unlock();
            }
        }
        transition(JobStatus.CONCLUDED);
        long cur = curBytes;
        long end = endBytes;
        JobEvent outcome;
        if (success) {
            outcome = new JobEvent.Completed(id, type(), device, JobStatus.CONCLUDED, cur, end);
        } else if (failure != null) {
            outcome = new JobEvent.Failed(id, type(), device, JobStatus.CONCLUDED, cur, end, error.orElseThrow());
        } else {
            outcome = new JobEvent.Cancelled(id, type(), device, JobStatus.CONCLUDED, cur, end);
        }
        emit(outcome);
        transition(JobStatus.NULL);
        lock.lock();
        try {
            ended = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    private void quietly(String what, Runnable callback) {
        try {
            callback.run();
        } catch (RuntimeException e) {
            LOG.error("job '{}': {} failed", id, what, e);
        }
    }

    /** Moves to {@code next} along the table and tells the listeners. */
    private void transition(JobStatus next) {
        JobEvent event;
        lock.lock();
        try {
            if (!status.canMoveTo(next)) {
                throw new IllegalStateException("job '" + id + "': no transition " + status + " -> " + next);
            }
            long now = time.nanoTime();
            if (status == JobStatus.RUNNING && runningSinceNanos >= 0) {
                runningNanos += now - runningSinceNanos;
                runningSinceNanos = -1;
            }
            if (next == JobStatus.RUNNING) {
                runningSinceNanos = now;
            }
            status = next;
            changed.signalAll();
            event = new JobEvent.StatusChanged(id, driver.type(), device, next, curBytes, endBytes);
        } finally {
            lock.unlock();
        }
        emit(event);
    }

    private void emit(JobEvent event) {
        for (JobListener listener : listeners) {
            try {
                listener.onEvent(event);
            } catch (RuntimeException e) {
                LOG.warn("job '{}': listener failed on {}", id, event, e);
            }
        }
    }

    /** The driver's view of this job. */
    private final class Context implements JobContext {
        @Override
        public String jobId() {
            return id;
        }

        @Override
        public TimeSource time() {
            return time;
        }

        @Override
        public void pausePoint() throws JobCancelledException {
            boolean mustPause;
            lock.lock();
            try {
                if (cancelRequested) {
                    throw new JobCancelledException(id);
                }
                mustPause = pauseRequested;
            } finally {
                lock.unlock();
            }
            if (!mustPause) {
                return;
            }
            transition(JobStatus.PAUSED);
            lock.lock();
            try {
                while (pauseRequested && !cancelRequested) {
                    changed.awaitUninterruptibly();
                }
            } finally {
                lock.unlock();
            }
            resumeRunning();
        }

        @Override
        public void sleep(long nanos) throws JobCancelledException {
            lock.lock();
            try {
                long deadline = time.nanoTime() + nanos;
                long seen = kicks;
                while (time.nanoTime() < deadline && kicks == seen) {
                    time.awaitUntil(changed, deadline);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                lock.unlock();
            }
            pausePoint();
        }

        @Override
        public void setEnd(long end) {
            endBytes = end;
        }

        @Override
        public void advance(long doneBytes, long moved) {
            if (doneBytes < 0 || moved < 0) {
                throw new IllegalArgumentException("progress only grows: done " + doneBytes + ", copied " + moved);
            }
            curBytes += doneBytes;
            copiedBytes += moved;
        }

        @Override
        public void pauseUntil(Throwable failure, long probeIntervalNanos, RecoveryProbe probe)
                throws JobCancelledException {
            if (probeIntervalNanos <= 0) {
                throw new IllegalArgumentException(
                        "probe interval must be positive, got " + probeIntervalNanos + " ns");
            }
            LOG.warn("job '{}' on {}: error, paused until it clears", id, device, failure);
            stopOn(messageOf(failure));
            transition(JobStatus.PAUSED);
            while (waitWhilePaused(probeIntervalNanos)) {
                if (probe.recovered()) {
                    lock.lock();
                    try {
                        pauseRequested = false;
                        error = Optional.empty();
                    } finally {
                        lock.unlock();
                    }
                    LOG.info("job '{}' on {}: the error cleared, resuming", id, device);
                }
            }
            resumeRunning();
        }

        /** Leaves PAUSED; a cancelled paused job resumes only to unwind (PAUSED may only go to RUNNING). */
        private void resumeRunning() throws JobCancelledException {
            transition(JobStatus.RUNNING);
            lock.lock();
            try {
                if (cancelRequested) {
                    throw new JobCancelledException(id);
                }
            } finally {
                lock.unlock();
            }
        }

        /** Waits up to {@code nanos} for a resume or cancel; returns whether the job is still paused. */
        private boolean waitWhilePaused(long nanos) {
            lock.lock();
            try {
                long deadline = time.nanoTime() + nanos;
                while (pauseRequested && !cancelRequested && time.nanoTime() < deadline) {
                    time.awaitUntil(changed, deadline);
                }
                return pauseRequested && !cancelRequested;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return pauseRequested && !cancelRequested;
            } finally {
                lock.unlock();
            }
        }

        /** Records the error that stops the job, asks it to pause, and tells the listeners. */
        private void stopOn(String message) {
            lock.lock();
            try {
                pauseRequested = true;
                error = Optional.of(message);
            } finally {
                lock.unlock();
            }
            emit(new JobEvent.ErrorReported(id, type(), device, status(), curBytes, endBytes, message, true));
        }

        private static String messageOf(Throwable failure) {
            return failure.getMessage() != null
                    ? failure.getMessage()
                    : failure.getClass().getSimpleName();
        }

        @Override
        public void reportError(Throwable failure, boolean stop) throws JobCancelledException {
            String message = messageOf(failure);
            LOG.warn("job '{}' on {}: error{}", id, device, stop ? ", stopping" : "", failure);
            if (stop) {
                stopOn(message);
            } else {
                emit(new JobEvent.ErrorReported(id, type(), device, status(), curBytes, endBytes, message, false));
            }
            if (stop) {
                pausePoint();
            }
        }
    }
}
