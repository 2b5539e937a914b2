package io.siphon.daemon;

import io.siphon.api.BlockJobEvent;
import io.siphon.api.BlockJobInfo;
import io.siphon.api.BlockJobStatus;
import io.siphon.api.BlockJobType;
import io.siphon.api.ErrorCode;
import io.siphon.api.SiphonException;
import io.siphon.blockjob.PrefetchPlan;
import io.siphon.blockjob.StreamOptions;
import io.siphon.domain.IoMessages;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pulls on the disks of started domains: each is recorded in {@link JobRecords} before it
 * starts (unless stepped) and until it ends, resumed from its record when its domain starts again,
 * and announced by a {@link BlockJobEvent} when it ends. Thread-safe: a disk's job is guarded by
 * the disk's monitor; waits for a job's end happen outside it, since the job ends on its own thread.
 */
final class DiskPulls {
    private static final Logger LOG = LoggerFactory.getLogger(DiskPulls.class);

    private final JobRecords records;
    private final AccessProfiles profiles;
    private final EventHub events;
    private volatile boolean exiting;

    DiskPulls(JobRecords records, AccessProfiles profiles, EventHub events) {
        this.records = records;
        this.profiles = profiles;
        this.events = events;
    }

    /**
     * From now on jobs that end keep their records and send no events: they are being cancelled for
     * a daemon exit, and resume when their domain starts again.
     */
    void exiting() {
        exiting = true;
    }

    /**
     * Starts a pull on {@code disk}, recording it first unless stepped. A disk with a job refuses,
     * unless the job is stepped and this is a whole-device pull, which then continues it.
     */
    PullJob start(String domain, RunningDisk disk, StreamOptions options, boolean stepped) {
        if (disk.definition().readOnly()) {
            throw new SiphonException(
                    ErrorCode.OPERATION_INVALID, "disk " + disk.target() + " is read-only; it cannot be pulled into");
        }
        CountDownLatch ended = new CountDownLatch(1);
        synchronized (disk) {
            if (disk.job().isPresent()) {
                return takeOver(domain, disk, options, stepped);
            }
            if (!stepped) {
                try {
                    // recorded before it starts, so that a kill at any later moment finds it
                    records.save(domain, disk.target(), options);
                } catch (IOException e) {
                    throw failed("recording the pull of disk " + disk.target(), e);
                }
            }
            PullJob started;
            try {
                PrefetchPlan prefetch =
                        options.order() == StreamOptions.Order.PROFILE ? profiles.plan(disk) : PrefetchPlan.none();
                started = PullJobs.start(
                        disk, options, prefetch, stepped, (status, error) -> ended(domain, disk, ended, status, error));
            } catch (RuntimeException e) {
                deleteRecord(domain, disk.target());
                throw e;
            }
            disk.setJob(started, ended);
            LOG.info(
                    "domain {} disk {}: block pull started (base {}, {} bytes/s, pace {}, order {}, on-outage {}{})",
                    domain,
                    disk.target(),
                    options.base().map(Path::toString).orElse("none"),
                    options.bytesPerSecond(),
                    options.pace(),
                    options.order(),
                    options.onOutage().word(),
                    stepped ? ", stepped" : "");
            return started;
        }
    }

    /**
     * A whole-device pull on a disk whose stepped pull is between steps continues that job in the
     * background (libvirt's single increments and whole-device pull are one job), recorded like any
     * pull; anything else meets the job already there. The caller holds the disk's monitor.
     */
    private PullJob takeOver(String domain, RunningDisk disk, StreamOptions options, boolean stepped) {
        PullJob current = disk.job().orElseThrow();
        if (stepped || !current.stepped() || options.base().isPresent()) {
            throw new SiphonException(ErrorCode.JOB_EXISTS, "disk " + disk.target() + " already has a block job");
        }
        try {
            records.save(domain, disk.target(), options);
        } catch (IOException e) {
            throw failed("recording the pull of disk " + disk.target(), e);
        }
        PullJob background = current.continueInBackground(options.bytesPerSecond());
        disk.setJob(background, disk.jobEnded());
        LOG.info(
                "domain {} disk {}: block pull continues the stepped pull ({} bytes/s)",
                domain,
                disk.target(),
                options.bytesPerSecond());
        return background;
    }

    /** Resumes the pull recorded for {@code disk}, if any; one that cannot start loses its record. */
    void resumeRecorded(String domain, RunningDisk disk) {
        Optional<StreamOptions> recorded = records.load(domain, disk.target());
        if (recorded.isEmpty()) {
            return;
        }
        try {
            LOG.info("domain {} disk {}: resuming the pull recorded before the restart", domain, disk.target());
            start(domain, disk, recorded.get(), false);
        } catch (RuntimeException e) {
            // a record the engine refuses (a base no longer in the chain...) is one line, not a trace
            LOG.warn(
                    "domain {} disk {}: cannot resume the recorded pull: {}",
                    domain,
                    disk.target(),
                    IoMessages.describe(e));
            deleteRecord(domain, disk.target());
        }
    }

    /** The job of {@code disk}, or a new stepped pull of its whole chain when it has none. */
    PullJob jobOrStepped(String domain, RunningDisk disk) {
        synchronized (disk) {
            return disk.job().isPresent() ? disk.job().get() : start(domain, disk, StreamOptions.defaults(), true);
        }
    }

    Optional<BlockJobInfo> info(RunningDisk disk) {
        synchronized (disk) {
            return disk.job().map(PullJob::info);
        }
    }

    /** Cancels the job of {@code disk}, and unless {@code async} waits for it to end. */
    void abort(RunningDisk disk, boolean async) {
        CountDownLatch end;
        synchronized (disk) {
            PullJob job = job(disk);
            end = disk.jobEnded();
            job.cancel();
        }
        if (!async) {
            awaitUninterruptibly(end);
        }
    }

    /** Changes the job's speed, and its record's, so that a resumed pull keeps it. */
    void setSpeed(String domain, RunningDisk disk, long bytesPerSecond) {
        synchronized (disk) {
            job(disk).setSpeed(bytesPerSecond);
            records.load(domain, disk.target()).ifPresent(options -> {
                try {
                    records.save(domain, disk.target(), options.withSpeed(bytesPerSecond));
                } catch (IOException e) {
                    LOG.warn("domain {} disk {}: new speed not recorded: {}", domain, disk.target(), e.toString());
                }
            });
        }
    }

    void pause(RunningDisk disk) {
        synchronized (disk) {
            job(disk).pause();
        }
    }

    void resume(RunningDisk disk) {
        synchronized (disk) {
            job(disk).resume();
        }
    }

    /** Cancels the jobs of {@code disks} and waits until each has ended. */
    void cancelAndAwait(List<RunningDisk> disks) {
        List<CountDownLatch> ends = new ArrayList<>();
        for (RunningDisk disk : disks) {
            synchronized (disk) {
                disk.job().ifPresent(PullJob::cancel);
                ends.add(disk.jobEnded());
            }
        }
        for (CountDownLatch end : ends) {
            awaitUninterruptibly(end);
        }
    }

    /** Deletes the records of a domain's disks, which is being undefined. */
    void forget(String domain, List<String> targets) throws IOException {
        for (String target : targets) {
            records.delete(domain, target);
        }
    }

    private void ended(
            String domain, RunningDisk disk, CountDownLatch ended, BlockJobStatus status, Optional<String> error) {
        synchronized (disk) {
            disk.clearJob();
        }
        if (!exiting) {
            deleteRecord(domain, disk.target());
        }
        ended.countDown();
        LOG.info(
                "domain {} disk {}: block pull ended {}{}",
                domain,
                disk.target(),
                status,
                error.map(e -> ": " + e).orElse(""));
        if (!exiting) {
            events.emit(new BlockJobEvent(domain, disk.target(), BlockJobType.PULL, status, error));
        }
    }

    private void deleteRecord(String domain, String disk) {
        try {
            records.delete(domain, disk);
        } catch (IOException e) {
            LOG.warn("domain {} disk {}: cannot delete the job record: {}", domain, disk, e.toString());
        }
    }

    private static PullJob job(RunningDisk disk) {
        return disk.job().orElseThrow(() -> noJob(disk.target()));
    }

    static SiphonException noJob(String diskName) {
        return new SiphonException(ErrorCode.NO_JOB, "disk " + diskName + " has no block job");
    }

    private static SiphonException failed(String what, IOException e) {
        return new SiphonException(ErrorCode.OPERATION_FAILED, what + ": " + IoMessages.describe(e), e);
    }

    private static void awaitUninterruptibly(CountDownLatch latch) {
        boolean interrupted = false;
        while (true) {
            try {
                latch.await();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
