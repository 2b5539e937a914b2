package io.siphon.qemu;

import io.siphon.api.BlockInfo;
import io.siphon.api.BlockJobEvent;
import io.siphon.api.BlockJobInfo;
import io.siphon.api.BlockJobProgress;
import io.siphon.api.BlockJobState;
import io.siphon.api.BlockJobStatus;
import io.siphon.api.BlockJobType;
import io.siphon.api.BlockStats;
import io.siphon.api.DiskInfo;
import io.siphon.api.DomainInfo;
import io.siphon.api.ErrorCode;
import io.siphon.api.LifecycleEvent;
import io.siphon.api.PullOrder;
import io.siphon.api.PullOutage;
import io.siphon.api.PullPace;
import io.siphon.api.PullStrategy;
import io.siphon.api.SiphonEvent;
import io.siphon.api.SiphonException;
import io.siphon.api.SiphonVersion;
import io.siphon.api.VersionInfo;
import io.siphon.api.spi.DomainEngine;
import io.siphon.domain.DiskDefinition;
import io.siphon.domain.DomainDefinition;
import io.siphon.domain.DomainDefinitions;
import io.siphon.domain.StateDirectory;
import io.siphon.qemu.qmp.QmpClient;
import io.siphon.qemu.qmp.QmpCommand;
import io.siphon.qemu.qmp.QmpEvent;
import io.siphon.qemu.qmp.QmpEvents;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The qemu driver's hypervisor role for one state directory: defines domains (shared definitions
 * store), runs one {@code qemu-storage-daemon} per started domain, and drives its disks' pulls over
 * QMP as libvirt's qemu driver does. QEMU processes outlive this object; {@link #reconcile} finds
 * them again. Thread-safe: state changes are serialized on this object; waits for jobs and process
 * exits happen outside it.
 */
final class QemuDomains implements DomainEngine, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(QemuDomains.class);
    private static final Duration STOP_GRACE = Duration.ofSeconds(10);
    private static final Duration DESTROY_GRACE = Duration.ofSeconds(2);
    private static final Duration JOB_END_TIMEOUT = Duration.ofSeconds(60);

    private final StateDirectory state;
    private final DomainDefinitions definitions;
    private final Path run;
    private final QemuBinaries binaries;
    private final PullRecords pulls;
    private final List<Consumer<SiphonEvent>> subscribers = new CopyOnWriteArrayList<>();
    private final Map<String, RunningDomain> running = new HashMap<>();
    private boolean reconciled;
    private volatile String qemuVersion;
    private volatile boolean closing;

    private QemuDomains(StateDirectory state, DomainDefinitions definitions, Path run, QemuBinaries binaries) {
        this.state = state;
        this.definitions = definitions;
        this.run = run;
        this.binaries = binaries;
        this.pulls = new PullRecords(run);
    }

    /** Opens {@code stateDir} and loads its definitions; running QEMU processes are found by {@link #reconcile}. */
    static QemuDomains open(Path stateDir, QemuBinaries binaries) {
        StateDirectory state = StateDirectory.open(stateDir);
        try {
            return new QemuDomains(state, DomainDefinitions.load(state), state.subdirectory("run"), binaries);
        } catch (IOException | SiphonException e) {
            try {
                state.close();
            } catch (IOException closeFailure) {
                e.addSuppressed(closeFailure);
            }
            throw e instanceof SiphonException s
                    ? s
                    : new SiphonException(ErrorCode.OPERATION_FAILED, "cannot open " + stateDir + ": " + e, e);
        }
    }

    Path stateDirectory() {
        return state.root();
    }

    /** Subscribes to every event; closing the result unsubscribes. Subscribers must not block. */
    @Override
    public AutoCloseable subscribe(Consumer<SiphonEvent> subscriber) {
        subscribers.add(subscriber);
        return () -> subscribers.remove(subscriber);
    }

    private void emit(SiphonEvent event) {
        LOG.debug("event {}", event);
        for (Consumer<SiphonEvent> subscriber : subscribers) {
            try {
                subscriber.accept(event);
            } catch (RuntimeException e) {
                LOG.warn("event subscriber failed on {}", event, e);
            }
        }
    }

    // ---- definitions ----

    @Override
    public synchronized DomainInfo define(String xml) {
        DomainDefinition definition = definitions.define(xml, d -> {
            if (running.containsKey(d.name())) {
                throw new SiphonException(
                        ErrorCode.OPERATION_INVALID,
                        "domain '" + d.name() + "' is running; shut it down before redefining it");
            }
        });
        LOG.info(
                "domain {} defined ({} disk(s))",
                definition.name(),
                definition.disks().size());
        emit(new LifecycleEvent(definition.name(), LifecycleEvent.Kind.DEFINED));
        return info(definition);
    }

    @Override
    public synchronized void undefine(String domain) {
        DomainDefinition definition = definitions.get(domain);
        if (running.containsKey(definition.name())) {
            throw new SiphonException(
                    ErrorCode.OPERATION_INVALID, "domain '" + definition.name() + "' is running; shut it down first");
        }
        definitions.undefine(definition.name());
        LOG.info("domain {} undefined", definition.name());
        emit(new LifecycleEvent(definition.name(), LifecycleEvent.Kind.UNDEFINED));
    }

    @Override
    public synchronized List<DomainInfo> list() {
        return definitions.list().stream().map(this::info).toList();
    }

    @Override
    public synchronized DomainInfo info(String domain) {
        return info(definitions.get(domain));
    }

    private DomainInfo info(DomainDefinition definition) {
        return definitions.info(definition, running.containsKey(definition.name()));
    }

    @Override
    public synchronized String xmlDesc(String domain) {
        return definitions.get(domain).xml();
    }

    @Override
    public synchronized void setAutostart(String domain, boolean autostart) {
        String name = definitions.setAutostart(domain, autostart);
        LOG.info("domain {} autostart {}", name, autostart ? "on" : "off");
    }

    /** A running disk's sizes from QEMU ({@link DiskQueries}); a shut-off one's from qemu-img. */
    @Override
    public BlockInfo blockInfo(String domain, String diskName) {
        DiskDefinition disk;
        Optional<RunningDomain> domainRun;
        synchronized (this) {
            DomainDefinition definition = definitions.get(domain);
            disk = definition.disk(diskName).orElseThrow(() -> noDisk(definition.name(), diskName));
            domainRun = Optional.ofNullable(running.get(definition.name()));
            if (domainRun.isPresent()) {
                return DiskQueries.info(domainRun.get().process().qmp(), disk(domainRun.get(), diskName));
            }
        }
        // a shut-off disk is read by qemu-img outside the lock
        return BackingChains.sizes(binaries.qemuImg(), disk.source(), disk.format());
    }

    /**
     * The counters of the virtio devices of a machine domain ({@code query-blockstats}, matched by
     * the device's root node). A storage daemon's NBD exports are not counted by QEMU (7.2 lists no
     * backend of an export), so a disks-only domain's are refused, never reported as zeroes.
     */
    @Override
    public synchronized BlockStats blockStats(String domain, Optional<String> diskName) {
        DomainDefinition definition = definitions.get(domain);
        diskName.ifPresent(d -> definition.disk(d).orElseThrow(() -> noDisk(definition.name(), d)));
        RunningDomain domainRun = running.get(definition.name());
        if (domainRun == null) {
            throw new SiphonException(ErrorCode.OPERATION_INVALID, "domain '" + definition.name() + "' is not running");
        }
        if (definition.machine().isEmpty()) {
            throw new SiphonException(
                    ErrorCode.NO_SUPPORT,
                    "block statistics of domain '" + definition.name() + "' are not supported by the qemu driver:"
                            + " qemu-storage-daemon does not count the requests of its NBD exports");
        }
        List<QemuDisk> disks = diskName.isPresent() ? List.of(disk(domainRun, diskName.get())) : domainRun.disks();
        return DiskQueries.stats(domainRun.process().qmp(), disks);
    }

    @Override
    public synchronized List<DiskInfo> disks(String domain) {
        DomainDefinition definition = definitions.get(domain);
        Optional<RunningDomain> started = Optional.ofNullable(running.get(definition.name()));
        List<DiskInfo> out = new ArrayList<>();
        for (DiskDefinition disk : definition.disks()) {
            Optional<QemuDisk> open = started.flatMap(r -> r.disk(disk.target()));
            out.add(new DiskInfo(
                    disk.target(),
                    disk.source().toString(),
                    open.map(d -> d.top().format()).orElse(disk.format().orElse("auto")),
                    disk.readOnly(),
                    disk.copyOnRead(),
                    open.map(d -> started.get().nbdUri(d.target()))));
        }
        return out;
    }

    // ---- start ----

    /**
     * Launches the domain's {@code qemu-storage-daemon}, opens every disk's chain as explicit nodes
     * and exports each disk over NBD. Any failure stops the process and leaves the domain shut off
     * with QEMU's reason.
     */
    @Override
    public synchronized void start(String domain) {
        DomainDefinition definition = definitions.get(domain);
        String name = definition.name();
        if (running.containsKey(name)) {
            throw new SiphonException(ErrorCode.OPERATION_INVALID, "domain '" + name + "' is already running");
        }
        checkSourcesFree(definition);
        RunFiles files = RunFiles.of(run, name);
        files.checkSocketPaths();
        List<QemuDisk> disks = new ArrayList<>();
        for (int i = 0; i < definition.disks().size(); i++) {
            DiskDefinition disk = definition.disks().get(i);
            try {
                disks.add(new QemuDisk(
                        disk,
                        i,
                        DiskNodes.of(i, BackingChains.read(binaries.qemuImg(), disk.source(), disk.format()))));
            } catch (SiphonException e) {
                throw cannotStart(name, "disk " + disk.target() + ": " + e.getMessage(), e);
            }
        }
        QemuProcess process;
        try {
            process = definition.machine().isPresent()
                    ? QemuMachines.launch(definition, files)
                    : QemuProcess.launchStorageDaemon(binaries.storageDaemon(), files);
        } catch (SiphonException e) {
            throw cannotStart(name, e.getMessage(), e);
        }
        RunningDomain domainRun = new RunningDomain(name, process, disks, files.nbdSocket());
        try {
            for (QemuDisk disk : disks) {
                DiskNodes.open(process.qmp(), disk);
            }
            process.qmp().execute(QmpCommand.NbdServerStart.unix(files.nbdSocket()));
            for (QemuDisk disk : disks) {
                process.qmp()
                        .execute(QmpCommand.BlockExportAdd.nbd(
                                disk.exportId(),
                                disk.exportedNode(),
                                RunningDomain.exportName(name, disk.target()),
                                !disk.definition().readOnly()));
            }
            if (definition.machine().isPresent()) {
                QemuMachines.attachAndRun(process.qmp(), definition, disks);
            }
        } catch (SiphonException e) {
            process.kill();
            deleteRunFiles(files, definition);
            throw cannotStart(name, e.getMessage(), e);
        }
        watch(domainRun);
        running.put(name, domainRun);
        LOG.info(
                "domain {} started: {} pid {}",
                name,
                definition.machine().isPresent() ? "machine" : "qemu-storage-daemon",
                process.pid());
        emit(new LifecycleEvent(name, LifecycleEvent.Kind.STARTED));
    }

    private static SiphonException cannotStart(String name, String why, SiphonException cause) {
        return new SiphonException(ErrorCode.OPERATION_FAILED, "cannot start domain '" + name + "': " + why, cause);
    }

    private void checkSourcesFree(DomainDefinition definition) {
        for (DiskDefinition disk : definition.disks()) {
            for (RunningDomain other : running.values()) {
                for (QemuDisk used : other.disks()) {
                    if (used.definition().source().equals(disk.source())) {
                        throw new SiphonException(
                                ErrorCode.OPERATION_INVALID,
                                "disk " + disk.target() + ": " + disk.source() + " is in use by running domain '"
                                        + other.name() + "'");
                    }
                }
            }
        }
    }

    private void watch(RunningDomain domain) {
        domain.process().qmp().addEventListener(event -> onEvent(domain, event));
        domain.process().ended().thenAccept(reason -> onProcessEnded(domain, reason));
    }

    // ---- stop ----

    @Override
    public void shutdown(String domain) {
        stop(domain, false);
    }

    @Override
    public void destroy(String domain) {
        stop(domain, true);
    }

    /** Cancels the domain's pulls (waiting for their events), then quits QEMU: quit, SIGTERM, SIGKILL. */
    private void stop(String domain, boolean destroy) {
        RunningDomain domainRun;
        List<CountDownLatch> ends = new ArrayList<>();
        synchronized (this) {
            String name = definitions.get(domain).name();
            domainRun = running.get(name);
            if (domainRun == null) {
                throw new SiphonException(ErrorCode.OPERATION_INVALID, "domain '" + name + "' is not running");
            }
            for (QemuDisk disk : domainRun.disks()) {
                disk.job().ifPresent(job -> {
                    cancel(domainRun, job);
                    ends.add(job.ended());
                });
            }
        }
        for (CountDownLatch end : ends) {
            await(end, JOB_END_TIMEOUT);
        }
        if (!destroy && definitions.get(domainRun.name()).machine().isPresent()) {
            QemuMachines.powerdown(domainRun.process());
        }
        domainRun.process().stop(destroy ? DESTROY_GRACE : STOP_GRACE);
        synchronized (this) {
            if (running.get(domainRun.name()) != domainRun) {
                throw new SiphonException(
                        ErrorCode.OPERATION_INVALID, "domain '" + domainRun.name() + "' was stopped meanwhile");
            }
            running.remove(domainRun.name());
            endJobs(domainRun);
            deleteRunFiles(RunFiles.of(run, domainRun.name()), definitions.get(domainRun.name()));
        }
        LOG.info("domain {} {}", domainRun.name(), destroy ? "destroyed" : "shut down");
        emit(new LifecycleEvent(
                domainRun.name(), destroy ? LifecycleEvent.Kind.DESTROYED : LifecycleEvent.Kind.SHUTDOWN));
    }

    private void cancel(RunningDomain domain, QemuPull job) {
        job.requestCancel();
        try {
            domain.process().qmp().execute(new QmpCommand.BlockJobCancel(job.jobId()));
        } catch (SiphonException e) {
            // a job that concluded meanwhile ends with its own event
            LOG.debug("domain {}: cancelling {}: {}", domain.name(), job.jobId(), e.getMessage());
        }
    }

    /** A QEMU process that ended without being stopped: the domain is shut off, its pulls failed. */
    private void onProcessEnded(RunningDomain domain, String reason) {
        synchronized (this) {
            if (closing || domain.process().isStopping() || running.get(domain.name()) != domain) {
                return;
            }
            LOG.warn("domain {}: {}", domain.name(), reason);
            running.remove(domain.name());
            domain.process().kill(); // a monitor that died under a live process leaves it unmanageable
            for (QemuDisk disk : domain.disks()) {
                disk.job().ifPresent(job -> endJob(domain, disk, job, BlockJobStatus.FAILED, Optional.of(reason)));
            }
            deleteRunFiles(RunFiles.of(run, domain.name()), definitions.get(domain.name()));
        }
        emit(new LifecycleEvent(
                domain.name(),
                QemuMachines.poweredOffByGuest(domain, definitions.get(domain.name()))
                        ? LifecycleEvent.Kind.SHUTDOWN
                        : LifecycleEvent.Kind.CRASHED));
    }

    /** Ends the jobs whose cancel QEMU did not confirm before it quit. */
    private void endJobs(RunningDomain domain) {
        for (QemuDisk disk : domain.disks()) {
            disk.job().ifPresent(job -> endJob(domain, disk, job, BlockJobStatus.CANCELED, Optional.empty()));
        }
    }

    private void deleteRunFiles(RunFiles files, DomainDefinition definition) {
        try {
            files.deleteStale(
                    definition.disks().stream().map(DiskDefinition::target).toList());
        } catch (IOException e) {
            LOG.warn("domain {}: cannot remove its run files: {}", definition.name(), e.toString());
        }
    }

    // ---- pulls ----

    @Override
    public synchronized void blockPull(
            String domain,
            String diskName,
            Optional<String> base,
            long bytesPerSecond,
            boolean keepRelative,
            PullStrategy strategy) {
        // QEMU's stream has neither: refused, never emulated (as the single-increment pull)
        if (strategy.pace() != PullPace.LIMIT || strategy.order() != PullOrder.OFFSET) {
            throw new SiphonException(
                    ErrorCode.NO_SUPPORT,
                    "pace " + strategy.pace().name().toLowerCase(Locale.ROOT) + " and order "
                            + strategy.order().name().toLowerCase(Locale.ROOT)
                            + " are not supported by the qemu driver");
        }
        // nor an outage policy: only the default, which asks for nothing, is accepted
        if (strategy.outage() != PullOutage.PAUSE) {
            throw new SiphonException(
                    ErrorCode.NO_SUPPORT,
                    "on-outage " + strategy.outage().name().toLowerCase(Locale.ROOT)
                            + " is not supported by the qemu driver");
        }
        RunningDomain domainRun = runningDomain(domain, diskName);
        QemuDisk disk = pullable(domainRun, diskName);
        Optional<Integer> baseDepth = base.map(b -> baseDepth(disk, b));
        String backingFile = null;
        if (keepRelative && baseDepth.isPresent()) {
            Path basePath = disk.chain().get(baseDepth.get()).path();
            backingFile = disk.top().path().getParent().relativize(basePath).toString();
        }
        QemuPull job = QemuPull.started(disk.jobId(), baseDepth);
        Optional<String> corrupt = ImageChecks.firstCorruption(binaries.qemuImg(), job.dropped(disk.chain()));
        if (corrupt.isPresent()) {
            // the job fails at once, as one that met the damage would: the call returns, the event follows
            LOG.warn("domain {} disk {}: pull refused: {}", domainRun.name(), disk.target(), corrupt.get());
            BlockJobEvent failed = new BlockJobEvent(
                    domainRun.name(), disk.target(), BlockJobType.PULL, BlockJobStatus.FAILED, corrupt);
            Thread.ofVirtual().start(() -> emit(failed));
            return;
        }
        try {
            pulls.save(domainRun.name(), disk.target(), job);
        } catch (IOException e) {
            throw new SiphonException(
                    ErrorCode.OPERATION_FAILED, "recording the pull of disk " + disk.target() + ": " + e, e);
        }
        // registered first: the end event may come right after the reply
        disk.setJob(Optional.of(job));
        try {
            domainRun
                    .process()
                    .qmp()
                    .execute(new QmpCommand.BlockStream(
                            job.jobId(),
                            disk.top().formatNode(),
                            baseDepth.map(d -> disk.chain().get(d).formatNode()).orElse(null),
                            backingFile,
                            bytesPerSecond,
                            "report",
                            true,
                            false));
        } catch (SiphonException e) {
            disk.setJob(Optional.empty());
            pulls.delete(domainRun.name(), disk.target());
            throw new SiphonException(e.code(), "disk " + disk.target() + ": " + e.getMessage(), e);
        }
        LOG.info(
                "domain {} disk {}: block-stream {} (base {}, {} bytes/s)",
                domainRun.name(),
                disk.target(),
                job.jobId(),
                base.orElse("none"),
                bytesPerSecond);
    }

    /** The disk, if a pull may start on it: writable, and without a job. */
    private QemuDisk pullable(RunningDomain domain, String diskName) {
        QemuDisk disk = disk(domain, diskName);
        if (disk.definition().readOnly()) {
            throw new SiphonException(
                    ErrorCode.OPERATION_INVALID, "disk " + disk.target() + " is read-only; it cannot be pulled into");
        }
        if (disk.job().isPresent()) {
            throw new SiphonException(ErrorCode.JOB_EXISTS, "disk " + disk.target() + " already has a block job");
        }
        return disk;
    }

    private static int baseDepth(QemuDisk disk, String base) {
        Path wanted = Path.of(base).toAbsolutePath().normalize();
        List<ChainNode> chain = disk.chain();
        for (int depth = 1; depth < chain.size(); depth++) {
            if (chain.get(depth).path().equals(wanted)) {
                return depth;
            }
        }
        throw new SiphonException(
                ErrorCode.INVALID_ARG,
                "base '" + base + "' is not below the top in the chain of disk " + disk.target() + " ("
                        + chain.stream().map(n -> n.path().toString()).toList() + ")");
    }

    /** Step mode needs an incremental stream, which QEMU does not have; the state errors still come first. */
    @Override
    public synchronized BlockJobProgress blockPullStep(String domain, String diskName) {
        RunningDomain domainRun = runningDomain(domain, diskName);
        QemuDisk disk = pullable(domainRun, diskName);
        throw new SiphonException(
                ErrorCode.NO_SUPPORT,
                "blockPullStep is not supported by the qemu driver: QEMU's block-stream has no single-increment"
                        + " mode; use blockPull with a bandwidth limit");
    }

    @Override
    public synchronized Optional<BlockJobInfo> blockJobInfo(String domain, String diskName) {
        DomainDefinition definition = definitions.get(domain);
        RunningDomain domainRun = running.get(definition.name());
        if (domainRun == null) {
            definition.disk(diskName).orElseThrow(() -> noDisk(definition.name(), diskName));
            return Optional.empty();
        }
        QemuDisk disk = disk(domainRun, diskName);
        if (disk.job().isEmpty()) {
            return Optional.empty();
        }
        QemuPull job = disk.job().get();
        return Optional.of(queryJob(domainRun, job)
                .map(job::info)
                .orElseGet(() ->
                        new BlockJobInfo(BlockJobType.PULL, 0, 0, 1, BlockJobState.ABORTING, 0, Optional.empty())));
    }

    private static Optional<QmpCommand.BlockJobReply> queryJob(RunningDomain domain, QemuPull job) {
        return Arrays.stream(domain.process().qmp().execute(new QmpCommand.QueryBlockJobs()))
                .filter(j -> j.device().equals(job.jobId()))
                .findFirst();
    }

    @Override
    public void blockJobAbort(String domain, String diskName, boolean async) {
        CountDownLatch end;
        synchronized (this) {
            RunningDomain domainRun = domainWithJob(domain, diskName);
            QemuPull job = disk(domainRun, diskName).job().orElseThrow(() -> noJob(diskName));
            cancel(domainRun, job);
            end = job.ended();
        }
        if (!async && !await(end, JOB_END_TIMEOUT)) {
            throw new SiphonException(
                    ErrorCode.OPERATION_FAILED,
                    "disk " + diskName + ": the job did not end within " + JOB_END_TIMEOUT.toSeconds()
                            + " s of cancel");
        }
    }

    @Override
    public synchronized void blockJobSetSpeed(String domain, String diskName, long bytesPerSecond) {
        RunningDomain domainRun = domainWithJob(domain, diskName);
        QemuPull job = disk(domainRun, diskName).job().orElseThrow(() -> noJob(diskName));
        try {
            domainRun.process().qmp().execute(new QmpCommand.BlockJobSetSpeed(job.jobId(), bytesPerSecond));
        } catch (SiphonException e) {
            // a job that concluded before its end event was handled has ended, for the API
            if (queryJob(domainRun, job)
                    .map(QmpCommand.BlockJobReply::concluded)
                    .orElse(true)) {
                throw noJob(diskName);
            }
            throw e;
        }
    }

    @Override
    public synchronized void blockJobPause(String domain, String diskName) {
        RunningDomain domainRun = domainWithJob(domain, diskName);
        QemuPull job = disk(domainRun, diskName).job().orElseThrow(() -> noJob(diskName));
        if (job.cancelRequested()
                || queryJob(domainRun, job)
                        .map(QmpCommand.BlockJobReply::paused)
                        .orElse(true)) {
            throw new SiphonException(
                    ErrorCode.OPERATION_INVALID, "the job of disk " + diskName + " is already paused or ending");
        }
        domainRun.process().qmp().execute(new QmpCommand.BlockJobPause(job.jobId()));
    }

    @Override
    public synchronized void blockJobResume(String domain, String diskName) {
        RunningDomain domainRun = domainWithJob(domain, diskName);
        QemuPull job = disk(domainRun, diskName).job().orElseThrow(() -> noJob(diskName));
        if (!queryJob(domainRun, job).map(QmpCommand.BlockJobReply::paused).orElse(false)) {
            throw new SiphonException(ErrorCode.OPERATION_INVALID, "the job of disk " + diskName + " is not paused");
        }
        domainRun.process().qmp().execute(new QmpCommand.BlockJobResume(job.jobId()));
    }

    /** The qemu driver on the QEMU release its storage daemon reports (asked once). */
    @Override
    public VersionInfo version() {
        String version = qemuVersion;
        if (version == null) {
            version = QemuVersion.of(binaries.storageDaemon());
            qemuVersion = version;
        }
        return new VersionInfo("qemu", SiphonVersion.current(), "QEMU", version);
    }

    // ---- QEMU's events ----

    private void onEvent(RunningDomain domain, QmpEvent event) {
        switch (event.name()) {
            case QmpEvents.BLOCK_JOB_COMPLETED, QmpEvents.BLOCK_JOB_CANCELLED -> {
                QmpEvents.BlockJobEnded ended = event.data(QmpEvents.BlockJobEnded.class);
                BlockJobStatus status = event.name().equals(QmpEvents.BLOCK_JOB_CANCELLED)
                        ? BlockJobStatus.CANCELED
                        : ended.error() == null ? BlockJobStatus.COMPLETED : BlockJobStatus.FAILED;
                jobEnded(domain, ended.device(), status, Optional.ofNullable(ended.error()));
            }
            case QmpEvents.BLOCK_IMAGE_CORRUPTED -> {
                QmpEvents.BlockImageCorrupted corrupted = event.data(QmpEvents.BlockImageCorrupted.class);
                LOG.warn(
                        "domain {}: QEMU found node {} corrupt: {}",
                        domain.name(),
                        corrupted.nodeName(),
                        corrupted.msg());
                domain.noteCorruption(corrupted.nodeName(), corrupted.msg());
            }
            case QmpEvents.BLOCK_JOB_ERROR -> {
                QmpEvents.BlockJobError error = event.data(QmpEvents.BlockJobError.class);
                LOG.warn(
                        "domain {}: job {}: {} error, action {}",
                        domain.name(),
                        error.device(),
                        error.operation(),
                        error.action());
            }
            case QmpEvents.SHUTDOWN -> domain.noteShutdown(QemuMachines.isGuestShutdown(event));
            default -> LOG.debug("domain {}: QMP event {} {}", domain.name(), event.name(), event.data());
        }
    }

    private synchronized void jobEnded(
            RunningDomain domain, String jobId, BlockJobStatus status, Optional<String> error) {
        if (running.get(domain.name()) != domain) {
            return;
        }
        Optional<QemuDisk> disk = domain.diskWithJob(jobId);
        if (disk.isEmpty()) {
            LOG.debug("domain {}: end of job {} that is not ours", domain.name(), jobId);
            return;
        }
        QemuPull job = disk.get().job().orElseThrow();
        endJob(domain, disk.get(), job, status, error.map(e -> domain.pullFailure(disk.get(), job, e)));
    }

    /**
     * Handles a job's end once: dismisses it in QEMU, and after a completed pull closes the dropped
     * images' nodes (so QEMU keeps no descriptor or lock of the template); then the event. The caller
     * holds this object's lock.
     */
    private void endJob(
            RunningDomain domain, QemuDisk disk, QemuPull job, BlockJobStatus status, Optional<String> error) {
        QmpClient qmp = domain.process().qmp();
        if (!qmp.isClosed() && !job.dismissed()) {
            try {
                qmp.execute(new QmpCommand.JobDismiss(job.jobId()));
            } catch (SiphonException e) {
                LOG.warn("domain {}: job-dismiss {}: {}", domain.name(), job.jobId(), e.getMessage());
            }
        }
        if (status == BlockJobStatus.COMPLETED) {
            DiskNodes.drop(qmp, domain.name(), job.dropped(disk.chain()));
            disk.setChain(job.remaining(disk.chain()));
        }
        disk.setJob(Optional.empty());
        pulls.delete(domain.name(), disk.target());
        job.ended().countDown();
        LOG.info(
                "domain {} disk {}: block pull ended {}{}",
                domain.name(),
                disk.target(),
                status,
                error.map(e -> ": " + e).orElse(""));
        emit(new BlockJobEvent(domain.name(), disk.target(), BlockJobType.PULL, status, error));
    }

    // ---- finding QEMU processes again ----

    /**
     * Finds the QEMU processes of this directory's domains that still run (through their pid files
     * and QMP sockets), rebuilds their disks from the nodes QEMU holds, and reconciles their pulls
     * with {@code query-block-jobs}: one that ended meanwhile is handled (and its event emitted) now.
     * Runs once; later calls return at once.
     */
    synchronized void reconcile() {
        if (reconciled) {
            return;
        }
        reconciled = true;
        for (DomainDefinition definition : definitions.list()) {
            RunFiles files = RunFiles.of(run, definition.name());
            if (!Files.exists(files.pidFile())) {
                continue;
            }
            Optional<QemuProcess> process = QemuProcess.reattach(files);
            if (process.isEmpty()) {
                LOG.info("domain {}: its QEMU process is gone; it is shut off", definition.name());
                deleteRunFiles(files, definition);
                continue;
            }
            try {
                adopt(definition, process.get(), files);
            } catch (SiphonException e) {
                LOG.warn(
                        "domain {}: cannot take over QEMU process {}: {}",
                        definition.name(),
                        process.get().pid(),
                        e.getMessage());
                process.get().close();
            }
        }
    }

    private void adopt(DomainDefinition definition, QemuProcess process, RunFiles files) {
        QmpCommand.BlockJobReply[] jobs = process.qmp().execute(new QmpCommand.QueryBlockJobs());
        for (QmpCommand.BlockJobReply job : jobs) {
            if (job.concluded()) {
                // QEMU 7.2 crashes on query-named-block-nodes while a finished stream awaits its dismissal
                process.qmp().execute(new QmpCommand.JobDismiss(job.device()));
            }
        }
        Map<String, QmpCommand.NamedNodeReply> nodes = new HashMap<>();
        for (QmpCommand.NamedNodeReply node : process.qmp().execute(new QmpCommand.QueryNamedBlockNodes(true))) {
            nodes.put(node.nodeName(), node);
        }
        List<QemuDisk> disks = new ArrayList<>();
        for (int i = 0; i < definition.disks().size(); i++) {
            List<ChainNode> chain = DiskNodes.find(i, definition.disks().get(i).target(), nodes);
            disks.add(new QemuDisk(definition.disks().get(i), i, chain));
        }
        RunningDomain domain = new RunningDomain(definition.name(), process, disks, files.nbdSocket());
        watch(domain);
        running.put(definition.name(), domain);
        LOG.info("domain {}: took over running QEMU process {}", definition.name(), process.pid());
        for (QemuDisk disk : disks) {
            Optional<QemuPull> recorded = pulls.load(definition.name(), disk.target());
            if (recorded.isEmpty()) {
                continue;
            }
            QemuPull job = recorded.get();
            Optional<QmpCommand.BlockJobReply> inQemu = Arrays.stream(jobs)
                    .filter(j -> j.device().equals(job.jobId()))
                    .findFirst();
            if (inQemu.isEmpty()) {
                pulls.delete(definition.name(), disk.target());
                continue;
            }
            disk.setJob(Optional.of(job));
            QmpCommand.BlockJobReply reply = inQemu.get();
            if (reply.concluded()) {
                job.markDismissed();
                // ended while no driver listened: handle its end now, as the event would have
                BlockJobStatus status = reply.error() == null
                        ? BlockJobStatus.COMPLETED
                        : reply.error().equals("Operation canceled") ? BlockJobStatus.CANCELED : BlockJobStatus.FAILED;
                Optional<String> error = status == BlockJobStatus.FAILED
                        ? Optional.of(domain.pullFailure(disk, job, reply.error()))
                        : Optional.empty();
                endJob(domain, disk, job, status, error);
            }
        }
    }

    // ---- lookups ----

    /** The running domain {@code domain}, whose disk {@code diskName} must exist. */
    private RunningDomain runningDomain(String domain, String diskName) {
        DomainDefinition definition = definitions.get(domain);
        definition.disk(diskName).orElseThrow(() -> noDisk(definition.name(), diskName));
        RunningDomain domainRun = running.get(definition.name());
        if (domainRun == null) {
            throw new SiphonException(ErrorCode.OPERATION_INVALID, "domain '" + definition.name() + "' is not running");
        }
        return domainRun;
    }

    /** As {@link #runningDomain}, but a shut-off domain has no job. */
    private RunningDomain domainWithJob(String domain, String diskName) {
        DomainDefinition definition = definitions.get(domain);
        definition.disk(diskName).orElseThrow(() -> noDisk(definition.name(), diskName));
        RunningDomain domainRun = running.get(definition.name());
        if (domainRun == null) {
            throw noJob(diskName);
        }
        return domainRun;
    }

    private QemuDisk disk(RunningDomain domain, String diskName) {
        DiskDefinition definition =
                definitions.get(domain.name()).disk(diskName).orElseThrow(() -> noDisk(domain.name(), diskName));
        return domain.disk(definition.target()).orElseThrow(() -> noDisk(domain.name(), diskName));
    }

    private static SiphonException noDisk(String domain, String diskName) {
        return new SiphonException(
                ErrorCode.NO_DISK, "domain '" + domain + "' has no disk with target or source '" + diskName + "'");
    }

    private static SiphonException noJob(String diskName) {
        return new SiphonException(ErrorCode.NO_JOB, "disk " + diskName + " has no block job");
    }

    private static boolean await(CountDownLatch latch, Duration timeout) {
        try {
            return latch.await(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return latch.getCount() == 0;
        }
    }

    /**
     * Lets go of the QEMU processes (they go on running, with their pulls, as VMs outlive libvirtd;
     * the next {@link #open} finds them) and unlocks the directory.
     */
    @Override
    public void close() throws IOException {
        List<RunningDomain> domains;
        synchronized (this) {
            closing = true;
            domains = new ArrayList<>(running.values());
            running.clear();
        }
        for (RunningDomain domain : domains) {
            domain.process().close();
        }
        state.close();
    }
}
