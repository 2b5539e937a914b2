package io.siphon.daemon;

import io.siphon.api.BlockJobEvent;
import io.siphon.api.BlockJobInfo;
import io.siphon.api.BlockJobProgress;
import io.siphon.api.BlockJobStatus;
import io.siphon.api.BlockJobType;
import io.siphon.api.DiskInfo;
import io.siphon.api.DomainInfo;
import io.siphon.api.DomainState;
import io.siphon.api.ErrorCode;
import io.siphon.api.LifecycleEvent;
import io.siphon.api.SiphonEvent;
import io.siphon.api.SiphonException;
import io.siphon.format.Image;
import io.siphon.format.ImageFormatException;
import io.siphon.util.FirstFailure;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The hypervisor role: defines, persists, starts and stops domains and runs their disks' pulls.
 * Thread-safe: state changes are serialized on this object; waits for jobs happen outside it, so
 * that a job ending (on its own thread) never waits for a caller.
 */
final class DomainManager implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(DomainManager.class);

    private final StateDirectory state;
    private final EventHub events = new EventHub();
    private final Map<String, DomainDefinition> definitions = new TreeMap<>();
    private final Map<String, List<RunningDisk>> running = new HashMap<>();
    private final DiskExports exports;
    private volatile boolean exiting;

    private DomainManager(StateDirectory state) {
        this.state = state;
        this.exports = new DiskExports(state.runDirectory());
    }

    /** Opens {@code stateDir} and loads the domains defined there; none is started. */
    static DomainManager open(Path stateDir) {
        StateDirectory state = StateDirectory.open(stateDir);
        DomainManager manager = new DomainManager(state);
        try {
            for (String xml : state.loadDomainXmls()) {
                try {
                    DomainDefinition definition = DomainXml.parse(xml);
                    manager.definitions.put(definition.name(), definition);
                } catch (SiphonException e) {
                    LOG.warn("ignoring a damaged definition in {}: {}", stateDir, e.getMessage());
                }
            }
        } catch (IOException e) {
            try {
                state.close();
            } catch (IOException closeFailure) {
                e.addSuppressed(closeFailure);
            }
            throw new SiphonException(ErrorCode.OPERATION_FAILED, "cannot read domains in " + stateDir + ": " + e, e);
        }
        LOG.info("state directory {}: {} domain(s) defined", stateDir, manager.definitions.size());
        return manager;
    }

    Path stateDirectory() {
        return state.root();
    }

    /** Subscribes to every event; closing the result unsubscribes. */
    AutoCloseable subscribe(Consumer<SiphonEvent> subscriber) {
        return events.subscribe(subscriber);
    }

    synchronized DomainInfo define(String xml) {
        DomainDefinition definition = DomainXml.parse(xml);
        for (DomainDefinition other : definitions.values()) {
            boolean sameName = other.name().equals(definition.name());
            boolean sameUuid = other.uuid().equals(definition.uuid());
            if (sameName != sameUuid) {
                throw new SiphonException(
                        ErrorCode.DOMAIN_EXISTS,
                        "domain '" + other.name() + "' already exists with uuid " + other.uuid());
            }
        }
        if (running.containsKey(definition.name())) {
            // its open disks follow the old definition; a new one takes effect at the next start
            throw new SiphonException(
                    ErrorCode.OPERATION_INVALID,
                    "domain '" + definition.name() + "' is running; shut it down before redefining it");
        }
        try {
            state.saveDomain(definition.name(), definition.xml());
        } catch (IOException e) {
            throw failed("saving domain " + definition.name(), e);
        }
        definitions.put(definition.name(), definition);
        LOG.info(
                "domain {} defined ({} disk(s))",
                definition.name(),
                definition.disks().size());
        events.emit(new LifecycleEvent(definition.name(), LifecycleEvent.Kind.DEFINED));
        return info(definition);
    }

    synchronized void undefine(String domain) {
        DomainDefinition definition = definition(domain);
        if (running.containsKey(definition.name())) {
            throw new SiphonException(
                    ErrorCode.OPERATION_INVALID, "domain '" + definition.name() + "' is running; shut it down first");
        }
        try {
            state.deleteDomain(definition.name());
            for (DiskDefinition disk : definition.disks()) {
                state.deleteJob(definition.name(), disk.target());
            }
        } catch (IOException e) {
            throw failed("removing domain " + definition.name(), e);
        }
        definitions.remove(definition.name());
        LOG.info("domain {} undefined", definition.name());
        events.emit(new LifecycleEvent(definition.name(), LifecycleEvent.Kind.UNDEFINED));
    }

    synchronized List<DomainInfo> list() {
        return definitions.values().stream().map(this::info).toList();
    }

    synchronized DomainInfo info(String domain) {
        return info(definition(domain));
    }

    private DomainInfo info(DomainDefinition definition) {
        DomainState domainState = running.containsKey(definition.name()) ? DomainState.RUNNING : DomainState.SHUTOFF;
        return new DomainInfo(
                definition.name(),
                definition.uuid(),
                domainState,
                definition.disks().size());
    }

    synchronized List<DiskInfo> disks(String domain) {
        DomainDefinition definition = definition(domain);
        List<DiskInfo> out = new ArrayList<>();
        List<RunningDisk> started = running.getOrDefault(definition.name(), List.of());
        for (DiskDefinition disk : definition.disks()) {
            // a running disk knows its probed format; a shut-off one says what the XML says
            String format = started.stream()
                    .filter(r -> r.target().equals(disk.target()))
                    .map(r -> r.images().getFirst().formatName())
                    .findFirst()
                    .orElse(disk.format().orElse("auto"));
            out.add(new DiskInfo(
                    disk.target(),
                    disk.source().toString(),
                    format,
                    disk.readOnly(),
                    disk.copyOnRead(),
                    nbdUri(definition.name(), disk.target())));
        }
        return out;
    }

    private Optional<String> nbdUri(String domain, String target) {
        try {
            return exports.uri(domain, target);
        } catch (IOException e) {
            LOG.warn("domain {} disk {}: no NBD URI: {}", domain, target, e.toString());
            return Optional.empty();
        }
    }

    /** Opens every disk's chain, exports it over NBD, and resumes the pulls recorded for it. */
    synchronized void start(String domain) {
        DomainDefinition definition = definition(domain);
        if (running.containsKey(definition.name())) {
            throw new SiphonException(
                    ErrorCode.OPERATION_INVALID, "domain '" + definition.name() + "' is already running");
        }
        for (DiskDefinition disk : definition.disks()) {
            for (Map.Entry<String, List<RunningDisk>> other : running.entrySet()) {
                for (RunningDisk used : other.getValue()) {
                    if (used.definition().source().equals(disk.source())) {
                        throw new SiphonException(
                                ErrorCode.OPERATION_INVALID,
                                "disk " + disk.target() + ": " + disk.source() + " is in use by running domain '"
                                        + other.getKey() + "'");
                    }
                }
            }
        }
        List<RunningDisk> opened = new ArrayList<>();
        try {
            for (DiskDefinition disk : definition.disks()) {
                opened.add(RunningDisk.open(definition.name(), disk));
            }
            for (RunningDisk disk : opened) {
                exports.export(disk);
            }
        } catch (IOException | RuntimeException e) {
            for (RunningDisk disk : opened) {
                exports.withdraw(disk);
                try {
                    disk.close(false);
                } catch (IOException closeFailure) {
                    e.addSuppressed(closeFailure);
                }
            }
            String what = e instanceof ImageFormatException ? e.getMessage() : e.toString();
            throw new SiphonException(
                    ErrorCode.OPERATION_FAILED, "cannot start domain '" + definition.name() + "': " + what, e);
        }
        running.put(definition.name(), opened);
        LOG.info("domain {} started", definition.name());
        events.emit(new LifecycleEvent(definition.name(), LifecycleEvent.Kind.STARTED));
        for (RunningDisk disk : opened) {
            state.loadJob(definition.name(), disk.target()).ifPresent(job -> resume(definition, disk, job));
        }
    }

    private void resume(DomainDefinition definition, RunningDisk disk, PersistedJob job) {
        try {
            LOG.info(
                    "domain {} disk {}: resuming the pull recorded before the restart",
                    definition.name(),
                    disk.target());
            startPull(definition, disk, job, false);
        } catch (SiphonException e) {
            LOG.warn(
                    "domain {} disk {}: cannot resume the recorded pull: {}",
                    definition.name(),
                    disk.target(),
                    e.getMessage());
            deleteJobRecord(definition.name(), disk.target());
        }
    }

    void shutdown(String domain) {
        stop(domain, true);
    }

    void destroy(String domain) {
        stop(domain, false);
    }

    /** Cancels the domain's jobs, waits for them outside the lock, then closes its disks. */
    private void stop(String domain, boolean flush) {
        String name;
        List<RunningDisk> disks;
        synchronized (this) {
            name = definition(domain).name();
            disks = running.get(name);
            if (disks == null) {
                throw new SiphonException(ErrorCode.OPERATION_INVALID, "domain '" + name + "' is not running");
            }
        }
        awaitJobsCancelled(disks);
        FirstFailure failures = new FirstFailure();
        synchronized (this) {
            if (running.get(name) != disks) {
                throw new SiphonException(ErrorCode.OPERATION_INVALID, "domain '" + name + "' was stopped meanwhile");
            }
            running.remove(name);
            for (RunningDisk disk : disks) {
                exports.withdraw(disk);
                failures.run(() -> disk.close(flush));
            }
        }
        LOG.info("domain {} {}", name, flush ? "shut down" : "destroyed");
        events.emit(new LifecycleEvent(name, flush ? LifecycleEvent.Kind.SHUTDOWN : LifecycleEvent.Kind.DESTROYED));
        Optional<IOException> failure = failures.failure();
        if (failure.isPresent()) {
            throw failed("closing the disks of domain " + name, failure.get());
        }
    }

    private void awaitJobsCancelled(List<RunningDisk> disks) {
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

    void blockPull(String domain, String diskName, Optional<String> base, long bytesPerSecond, boolean keepRelative) {
        synchronized (this) {
            DomainDefinition definition = definition(domain);
            RunningDisk disk = runningDisk(definition, diskName);
            startPull(definition, disk, new PersistedJob(disk.target(), base, keepRelative, bytesPerSecond), false);
        }
    }

    BlockJobProgress blockPullStep(String domain, String diskName) {
        PullJob job;
        synchronized (this) {
            DomainDefinition definition = definition(domain);
            RunningDisk disk = runningDisk(definition, diskName);
            synchronized (disk) {
                job = disk.job().isPresent()
                        ? disk.job().get()
                        : startPull(
                                definition, disk, new PersistedJob(disk.target(), Optional.empty(), false, 0), true);
            }
        }
        try {
            return job.step();
        } catch (IOException e) {
            throw failed("pull step on disk " + diskName, e);
        }
    }

    /**
     * Starts a pull on {@code disk} (which must have no job), recording it first unless stepped; the
     * caller holds this object's lock.
     */
    private PullJob startPull(DomainDefinition definition, RunningDisk disk, PersistedJob job, boolean stepped) {
        if (disk.definition().readOnly()) {
            throw new SiphonException(
                    ErrorCode.OPERATION_INVALID, "disk " + disk.target() + " is read-only; it cannot be pulled into");
        }
        PullJobs.Request request = request(disk, job, stepped);
        CountDownLatch ended = new CountDownLatch(1);
        String name = definition.name();
        synchronized (disk) {
            if (disk.job().isPresent()) {
                return takeOver(name, disk, job, stepped);
            }
            if (!stepped) {
                try {
                    // recorded before it starts, so that a kill at any later moment finds it
                    state.saveJob(name, job);
                } catch (IOException e) {
                    throw failed("recording the pull of disk " + disk.target(), e);
                }
            }
            PullJob started;
            try {
                started = PullJobs.start(disk, request, (status, error) -> jobEnded(name, disk, ended, status, error));
            } catch (RuntimeException e) {
                deleteJobRecord(name, disk.target());
                throw e;
            }
            disk.setJob(started, ended);
            LOG.info(
                    "domain {} disk {}: block pull started (base {}, {} bytes/s{})",
                    name,
                    disk.target(),
                    job.base().orElse("none"),
                    job.bytesPerSecond(),
                    stepped ? ", stepped" : "");
            return started;
        }
    }

    /**
     * A whole-device pull on a disk whose stepped pull is between steps continues that job in the
     * background, recorded like any pull; anything else meets the job already there. The caller
     * holds the disk's lock.
     */
    private PullJob takeOver(String name, RunningDisk disk, PersistedJob job, boolean stepped) {
        PullJob current = disk.job().orElseThrow();
        if (stepped || !current.stepped() || job.base().isPresent()) {
            throw new SiphonException(ErrorCode.JOB_EXISTS, "disk " + disk.target() + " already has a block job");
        }
        try {
            state.saveJob(name, job);
        } catch (IOException e) {
            throw failed("recording the pull of disk " + disk.target(), e);
        }
        PullJob background = current.continueInBackground(job.bytesPerSecond());
        disk.setJob(background, disk.jobEnded());
        LOG.info(
                "domain {} disk {}: block pull continues the stepped pull ({} bytes/s)",
                name,
                disk.target(),
                job.bytesPerSecond());
        return background;
    }

    private PullJobs.Request request(RunningDisk disk, PersistedJob job, boolean stepped) {
        if (job.base().isEmpty()) {
            return new PullJobs.Request(Optional.empty(), false, job.bytesPerSecond(), stepped);
        }
        List<Image> images = disk.images();
        Path base = Path.of(job.base().get()).toAbsolutePath().normalize();
        for (int i = 1; i < images.size(); i++) {
            if (images.get(i).path().toAbsolutePath().normalize().equals(base)) {
                return new PullJobs.Request(Optional.of(base), job.keepRelative(), job.bytesPerSecond(), stepped);
            }
        }
        throw new SiphonException(
                ErrorCode.INVALID_ARG,
                "base '" + job.base().get() + "' is not below the top in the chain of disk " + disk.target() + " ("
                        + images.stream().map(im -> im.path().toString()).toList() + ")");
    }

    private void jobEnded(
            String domain, RunningDisk disk, CountDownLatch ended, BlockJobStatus status, Optional<String> error) {
        synchronized (disk) {
            disk.clearJob();
        }
        if (!exiting) {
            deleteJobRecord(domain, disk.target());
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

    private void deleteJobRecord(String domain, String disk) {
        try {
            state.deleteJob(domain, disk);
        } catch (IOException e) {
            LOG.warn("domain {} disk {}: cannot delete the job record: {}", domain, disk, e.toString());
        }
    }

    Optional<BlockJobInfo> blockJobInfo(String domain, String diskName) {
        RunningDisk disk;
        synchronized (this) {
            DomainDefinition definition = definition(domain);
            if (!running.containsKey(definition.name())) {
                definition.disk(diskName).orElseThrow(() -> noDisk(definition, diskName));
                return Optional.empty();
            }
            disk = runningDisk(definition, diskName);
        }
        synchronized (disk) {
            return disk.job().map(PullJob::info);
        }
    }

    void blockJobAbort(String domain, String diskName, boolean async) {
        RunningDisk disk = diskWithJob(domain, diskName);
        CountDownLatch end;
        synchronized (disk) {
            PullJob job = disk.job().orElseThrow(() -> noJob(diskName));
            end = disk.jobEnded();
            job.cancel();
        }
        if (!async) {
            awaitUninterruptibly(end);
        }
    }

    void blockJobSetSpeed(String domain, String diskName, long bytesPerSecond) {
        String name = definition(domain).name();
        RunningDisk disk = diskWithJob(domain, diskName);
        synchronized (disk) {
            disk.job().orElseThrow(() -> noJob(diskName)).setSpeed(bytesPerSecond);
            state.loadJob(name, disk.target()).ifPresent(job -> {
                try {
                    state.saveJob(name, job.withSpeed(bytesPerSecond));
                } catch (IOException e) {
                    LOG.warn("domain {} disk {}: new speed not recorded: {}", name, disk.target(), e.toString());
                }
            });
        }
    }

    void blockJobPause(String domain, String diskName) {
        RunningDisk disk = diskWithJob(domain, diskName);
        synchronized (disk) {
            disk.job().orElseThrow(() -> noJob(diskName)).pause();
        }
    }

    void blockJobResume(String domain, String diskName) {
        RunningDisk disk = diskWithJob(domain, diskName);
        synchronized (disk) {
            disk.job().orElseThrow(() -> noJob(diskName)).resume();
        }
    }

    private synchronized RunningDisk diskWithJob(String domain, String diskName) {
        DomainDefinition definition = definition(domain);
        if (!running.containsKey(definition.name())) {
            definition.disk(diskName).orElseThrow(() -> noDisk(definition, diskName));
            throw noJob(diskName);
        }
        return runningDisk(definition, diskName);
    }

    private DomainDefinition definition(String nameOrUuid) {
        DomainDefinition byName = definitions.get(nameOrUuid);
        if (byName != null) {
            return byName;
        }
        for (DomainDefinition definition : definitions.values()) {
            if (definition.uuid().toString().equalsIgnoreCase(nameOrUuid)) {
                return definition;
            }
        }
        throw new SiphonException(ErrorCode.NO_DOMAIN, "no domain with name or uuid '" + nameOrUuid + "'");
    }

    private RunningDisk runningDisk(DomainDefinition definition, String diskName) {
        DiskDefinition disk = definition.disk(diskName).orElseThrow(() -> noDisk(definition, diskName));
        List<RunningDisk> disks = running.get(definition.name());
        if (disks == null) {
            throw new SiphonException(ErrorCode.OPERATION_INVALID, "domain '" + definition.name() + "' is not running");
        }
        for (RunningDisk candidate : disks) {
            if (candidate.target().equals(disk.target())) {
                return candidate;
            }
        }
        throw noDisk(definition, diskName);
    }

    private static SiphonException noDisk(DomainDefinition definition, String diskName) {
        return new SiphonException(
                ErrorCode.NO_DISK,
                "domain '" + definition.name() + "' has no disk with target or source '" + diskName + "'");
    }

    private static SiphonException noJob(String diskName) {
        return new SiphonException(ErrorCode.NO_JOB, "disk " + diskName + " has no block job");
    }

    private static SiphonException failed(String what, IOException e) {
        return new SiphonException(ErrorCode.OPERATION_FAILED, what + ": " + e.getMessage(), e);
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

    /**
     * Stops every running domain for a daemon exit: jobs are cancelled but their records kept, so
     * they resume when the domain starts again; disks are flushed and closed.
     */
    @Override
    public void close() throws IOException {
        exiting = true;
        List<String> names;
        synchronized (this) {
            names = new ArrayList<>(running.keySet());
        }
        for (String name : names) {
            try {
                stop(name, true);
            } catch (SiphonException e) {
                LOG.warn("stopping domain {} for exit: {}", name, e.getMessage());
            }
        }
        synchronized (this) {
            try {
                exports.close();
            } finally {
                state.close();
            }
        }
    }
}
