package io.siphon.daemon;

import io.siphon.api.BlockInfo;
import io.siphon.api.BlockJobInfo;
import io.siphon.api.BlockJobProgress;
import io.siphon.api.BlockStats;
import io.siphon.api.DiskInfo;
import io.siphon.api.DomainInfo;
import io.siphon.api.ErrorCode;
import io.siphon.api.LifecycleEvent;
import io.siphon.api.PullStrategy;
import io.siphon.api.SiphonEvent;
import io.siphon.api.SiphonException;
import io.siphon.daemon.vm.DomainMachine;
import io.siphon.domain.DiskDefinition;
import io.siphon.domain.DomainDefinition;
import io.siphon.domain.DomainDefinitions;
import io.siphon.domain.IoMessages;
import io.siphon.domain.StateDirectory;
import io.siphon.format.RemoteBackingPolicy;
import io.siphon.qemu.Machine;
import io.siphon.qemu.MachineCommand;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The hypervisor role: the domains defined in a state directory ({@link DomainDefinitions}), the
 * runtime of those started ({@link StartedDomains}), their disks' pulls ({@link DiskPulls}) and the
 * VMs of those that describe a machine ({@link DomainMachines}), with the lifecycle and job events.
 * A VM outlives the daemon: at an exit it is left running, and the next daemon on the directory
 * serves its disks again and takes it over. Thread-safe: definitions and starts and stops are serialized
 * on this object; waits for jobs happen outside it, so that a job ending (on its own thread) never
 * waits for a caller.
 */
final class DomainManager implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(DomainManager.class);

    private final StateDirectory state;
    private final DomainDefinitions definitions;
    private final StartedDomains started;
    private final DiskPulls pulls;
    private final AccessProfiles profiles;
    private final DomainMachines machines;
    private final EventHub events = new EventHub();
    private final DiskOpener opener;
    private final Map<String, PendingStart> pendingStarts = new HashMap<>();

    private DomainManager(StateDirectory state, DiskOpener opener, Duration profileRecording) throws IOException {
        this.state = state;
        this.opener = opener;
        this.definitions = DomainDefinitions.load(state);
        Path run = state.subdirectory("run");
        this.started = new StartedDomains(run);
        this.machines = new DomainMachines(run, this::machineEnded);
        this.profiles = new AccessProfiles(state, profileRecording);
        this.pulls = new DiskPulls(new JobRecords(state), profiles, events);
    }

    /** Opens {@code stateDir} and loads the domains defined there; none is started; remote backings refused. */
    static DomainManager open(Path stateDir) {
        return open(stateDir, EngineSettings.DEFAULT);
    }

    /** As {@link #open(Path)}, the disks following remote backing names and profiled as {@code settings} say. */
    static DomainManager open(Path stateDir, EngineSettings settings) {
        return open(
                stateDir,
                state -> {
                    RemoteBackingPolicy policy = settings.remote().policy(state);
                    return (domain, disk) -> RunningDisk.open(domain, disk, policy);
                },
                settings.profileRecording());
    }

    /** As {@link #open(Path)}, opening disks with {@code opener}. */
    static DomainManager open(Path stateDir, DiskOpener opener) {
        return open(stateDir, state -> opener, AccessProfiles.DEFAULT_RECORDING);
    }

    /** How a manager's disk opener is made once its state directory is open (the cache lives there). */
    @FunctionalInterface
    private interface OpenerFactory {
        DiskOpener make(StateDirectory state) throws IOException;
    }

    private static DomainManager open(Path stateDir, OpenerFactory openers, Duration profileRecording) {
        StateDirectory state = StateDirectory.open(stateDir);
        DomainManager manager;
        try {
            manager = new DomainManager(state, openers.make(state), profileRecording);
        } catch (IOException | RuntimeException e) {
            try {
                state.close();
            } catch (IOException closeFailure) {
                e.addSuppressed(closeFailure);
            }
            throw e instanceof SiphonException siphon
                    ? siphon
                    : new SiphonException(
                            ErrorCode.OPERATION_FAILED,
                            "cannot open state directory " + stateDir + ": " + IoMessages.describe(e),
                            e);
        }
        LOG.info(
                "state directory {}: {} domain(s) defined",
                stateDir,
                manager.definitions.list().size());
        manager.adoptMachines();
        return manager;
    }

    Path stateDirectory() {
        return state.root();
    }

    /** The engine's disk of a running domain's disk {@code target}, if that domain runs and has it. */
    synchronized Optional<io.siphon.blockjob.Disk> runningDisk(String domain, String target) {
        return started.disks(domain)
                .flatMap(disks -> disks.stream()
                        .filter(d -> d.target().equals(target))
                        .map(RunningDisk::disk)
                        .findFirst());
    }

    /** Who is told of NBD connections and requests on the exports (a listener hook for metrics). */
    synchronized void setNbdListener(io.siphon.nbd.server.NbdServerListener listener) {
        started.setNbdListener(listener);
    }

    /** Subscribes to every event; closing the result unsubscribes. */
    AutoCloseable subscribe(Consumer<SiphonEvent> subscriber) {
        return events.subscribe(subscriber);
    }

    synchronized DomainInfo define(String xml) {
        DomainDefinition definition = definitions.define(xml, parsed -> {
            if (started.isRunning(parsed.name()) || started.isStarting(parsed.name())) {
                // its open disks follow the old definition; a new one takes effect at the next start
                throw new SiphonException(
                        ErrorCode.OPERATION_INVALID,
                        "domain '" + parsed.name() + "' is running; shut it down before redefining it");
            }
        });
        LOG.info(
                "domain {} defined ({} disk(s))",
                definition.name(),
                definition.disks().size());
        events.emit(new LifecycleEvent(definition.name(), LifecycleEvent.Kind.DEFINED));
        return info(definition);
    }

    synchronized void undefine(String domain) {
        DomainDefinition definition = definitions.get(domain);
        if (started.isRunning(definition.name()) || started.isStarting(definition.name())) {
            throw new SiphonException(
                    ErrorCode.OPERATION_INVALID, "domain '" + definition.name() + "' is running; shut it down first");
        }
        try {
            pulls.forget(
                    definition.name(),
                    definition.disks().stream().map(DiskDefinition::target).toList());
        } catch (IOException e) {
            throw new SiphonException(
                    ErrorCode.OPERATION_FAILED,
                    "removing the job records of domain " + definition.name() + ": " + IoMessages.describe(e),
                    e);
        }
        definitions.undefine(definition.name());
        LOG.info("domain {} undefined", definition.name());
        events.emit(new LifecycleEvent(definition.name(), LifecycleEvent.Kind.UNDEFINED));
    }

    synchronized List<DomainInfo> list() {
        return definitions.list().stream().map(this::info).toList();
    }

    synchronized DomainInfo info(String domain) {
        return info(definitions.get(domain));
    }

    private DomainInfo info(DomainDefinition definition) {
        return definitions.info(definition, started.isRunning(definition.name()));
    }

    synchronized String xmlDesc(String domain) {
        return definitions.get(domain).xml();
    }

    synchronized void setAutostart(String domain, boolean autostart) {
        String name = definitions.setAutostart(domain, autostart);
        LOG.info("domain {} autostart {}", name, autostart ? "on" : "off");
    }

    /** The disk's sizes: from its open top while the domain runs, else from the file (shared, as qemu-img -U). */
    BlockInfo blockInfo(String domain, String diskName) {
        DiskDefinition disk;
        Optional<RunningDisk> open;
        synchronized (this) {
            DomainDefinition definition = definitions.get(domain);
            disk = definition.disk(diskName).orElseThrow(() -> StartedDomains.noDisk(definition, diskName));
            open = started.isRunning(definition.name())
                    ? Optional.of(started.disk(definition, diskName))
                    : Optional.empty();
        }
        try {
            return open.isPresent()
                    ? DiskSizes.of(open.get().images().getFirst(), disk.source())
                    : DiskSizes.offline(disk);
        } catch (IOException e) {
            throw new SiphonException(
                    ErrorCode.OPERATION_FAILED,
                    "disk " + disk.target() + ": cannot read the sizes of " + disk.source() + ": "
                            + IoMessages.describe(e),
                    e);
        }
    }

    /** The guest's I/O as the disks' gates counted it since the domain started. */
    synchronized BlockStats blockStats(String domain, Optional<String> diskName) {
        DomainDefinition definition = definitions.get(domain);
        if (diskName.isPresent()) {
            definition.disk(diskName.get()).orElseThrow(() -> StartedDomains.noDisk(definition, diskName.get()));
        }
        List<RunningDisk> disks = started.disks(definition.name())
                .orElseThrow(() -> new SiphonException(
                        ErrorCode.OPERATION_INVALID, "domain '" + definition.name() + "' is not running"));
        BlockStats total = BlockStats.ZERO;
        for (RunningDisk disk : disks) {
            if (diskName.isEmpty() || disk == started.disk(definition, diskName.get())) {
                total = total.plus(
                        DiskSizes.stats(disk.disk().device().guestIo().totals()));
            }
        }
        return total;
    }

    synchronized List<DiskInfo> disks(String domain) {
        DomainDefinition definition = definitions.get(domain);
        List<DiskInfo> out = new ArrayList<>();
        List<RunningDisk> open = started.disks(definition.name()).orElse(List.of());
        for (DiskDefinition disk : definition.disks()) {
            // a running disk knows its probed format; a shut-off one says what the XML says
            String format = open.stream()
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
                    started.nbdUri(definition.name(), disk.target())));
        }
        return out;
    }

    /**
     * Opens every disk's chain, exports it over NBD, launches the machine if the domain describes
     * one, and resumes the pulls recorded for it. What a machine needs (emulator, kernel, initrd, an
     * accelerator) is checked before any disk opens. The chains are opened outside this object's
     * lock (see {@link PendingStart}): other calls are served meanwhile, and a destroy or shutdown of
     * the domain gives the start up. The machine is launched once the disks are committed (it
     * connects to their exports); a launch that fails closes the disks again.
     */
    void start(String domain) {
        DomainDefinition definition;
        String name;
        Optional<MachineCommand> command;
        PendingStart pending;
        synchronized (this) {
            definition = definitions.get(domain);
            name = definition.name();
            if (started.isRunning(name)) {
                throw new SiphonException(ErrorCode.OPERATION_INVALID, "domain '" + name + "' is already running");
            }
            if (started.isStarting(name)) {
                throw new SiphonException(ErrorCode.OPERATION_INVALID, "domain '" + name + "' is being started");
            }
            command = DomainMachines.prepare(definition);
            started.reserve(definition);
            pending = PendingStart.begin(definition, opener);
            pendingStarts.put(name, pending);
        }
        List<RunningDisk> opened;
        try {
            opened = pending.await();
        } catch (RuntimeException e) {
            synchronized (this) {
                if (pendingStarts.remove(name, pending)) {
                    started.release(name);
                }
            }
            throw e;
        }
        synchronized (this) {
            if (!pendingStarts.remove(name, pending)) {
                SiphonException givenUp = pending.givenUp();
                StartedDomains.closeAll(opened, givenUp);
                throw givenUp;
            }
            List<RunningDisk> disks = started.commit(definition, opened);
            if (command.isPresent()) {
                launch(definition, command.get(), disks);
            }
            LOG.info("domain {} started", name);
            events.emit(new LifecycleEvent(name, LifecycleEvent.Kind.STARTED));
            for (RunningDisk disk : disks) {
                profiles.startRecording(disk);
                pulls.resumeRecorded(name, disk);
            }
        }
    }

    /** Launches the machine of a domain whose disks are committed; a failure closes them again. */
    private void launch(DomainDefinition definition, MachineCommand command, List<RunningDisk> disks) {
        try {
            machines.launch(definition, command, disks, started.nbdSocket());
        } catch (RuntimeException e) {
            try {
                started.stop(definition.name(), disks, false);
            } catch (IOException closeFailure) {
                e.addSuppressed(closeFailure);
            }
            throw e;
        }
    }

    private void machineEnded(DomainMachine machine, Machine.Exit exit) {
        String name = machine.domain();
        List<RunningDisk> disks;
        synchronized (this) {
            if (!machines.endedByItself(machine)) {
                return;
            }
            disks = started.disks(name).orElse(List.of());
        }
        LOG.info("domain {}: machine pid {} ended: {}", name, machine.pid(), exit.reason());
        machine.deleteRunFiles();
        try {
            finishStop(
                    name,
                    disks,
                    true,
                    exit.guestShutdown() ? LifecycleEvent.Kind.SHUTDOWN : LifecycleEvent.Kind.CRASHED);
        } catch (SiphonException e) {
            LOG.info("domain {}: after its machine ended: {}", name, e.getMessage());
        }
    }

    /**
     * Serves again the disks of the machines a previous daemon left running, and takes them over, so
     * that their NBD clients reconnect and their recorded pulls resume. This runs while the manager
     * opens, before any client can call it, so the disks are opened here under the lock.
     */
    private synchronized void adoptMachines() {
        for (DomainDefinition definition : definitions.list()) {
            Optional<DomainMachine> machine = machines.reattach(definition);
            if (machine.isEmpty()) {
                continue;
            }
            List<RunningDisk> disks;
            try {
                disks = started.startNow(definition, opener);
            } catch (SiphonException e) {
                LOG.error(
                        "domain {}: machine pid {} runs but its disks cannot be served: {}",
                        definition.name(),
                        machine.get().pid(),
                        e.getMessage());
                continue;
            }
            machines.watch(machine.get());
            LOG.info(
                    "domain {}: took over machine pid {}",
                    definition.name(),
                    machine.get().pid());
            for (RunningDisk disk : disks) {
                pulls.resumeRecorded(definition.name(), disk);
            }
        }
    }

    /** Gives up the start of {@code name} if one is pending; true if there was one. */
    private boolean giveUpStart(String name) {
        PendingStart pending = pendingStarts.remove(name);
        if (pending == null) {
            return false;
        }
        started.release(name);
        pending.giveUp();
        LOG.info("domain {}: start given up", name);
        return true;
    }

    void shutdown(String domain) {
        stop(domain, true);
    }

    void destroy(String domain) {
        stop(domain, false);
    }

    /**
     * Stops the domain's machine (asking the guest when {@code flush}, else killing it), cancels its
     * jobs and waits for them outside the lock, then closes its disks; a domain being started has its
     * start given up instead.
     */
    private void stop(String domain, boolean flush) {
        String name;
        List<RunningDisk> disks;
        Optional<DomainMachine> machine;
        synchronized (this) {
            name = definitions.get(domain).name();
            if (giveUpStart(name)) {
                return;
            }
            disks = started.disks(name)
                    .orElseThrow(() ->
                            new SiphonException(ErrorCode.OPERATION_INVALID, "domain '" + name + "' is not running"));
            machine = machines.get(name);
        }
        machine.ifPresent(m -> DomainMachines.stop(m, flush));
        finishStop(name, disks, flush, flush ? LifecycleEvent.Kind.SHUTDOWN : LifecycleEvent.Kind.DESTROYED);
    }

    private void finishStop(String name, List<RunningDisk> disks, boolean flush, LifecycleEvent.Kind kind) {
        pulls.cancelAndAwait(disks);
        disks.forEach(profiles::finishRecording);
        Optional<IOException> failure = Optional.empty();
        synchronized (this) {
            machines.remove(name);
            try {
                started.stop(name, disks, flush);
            } catch (IOException e) {
                failure = Optional.of(e);
            }
        }
        LOG.info("domain {} {}", name, kind.name().toLowerCase(Locale.ROOT));
        events.emit(new LifecycleEvent(name, kind));
        if (failure.isPresent()) {
            throw new SiphonException(
                    ErrorCode.OPERATION_FAILED,
                    "closing the disks of domain " + name + ": " + IoMessages.describe(failure.get()),
                    failure.get());
        }
    }

    synchronized void blockPull(
            String domain,
            String diskName,
            Optional<String> base,
            long bytesPerSecond,
            boolean keepRelative,
            PullStrategy strategy) {
        DomainDefinition definition = definitions.get(domain);
        pulls.start(
                definition.name(),
                started.disk(definition, diskName),
                PullJobs.options(base, bytesPerSecond, keepRelative, strategy),
                false);
    }

    BlockJobProgress blockPullStep(String domain, String diskName) {
        PullJob job;
        synchronized (this) {
            DomainDefinition definition = definitions.get(domain);
            job = pulls.jobOrStepped(definition.name(), started.disk(definition, diskName));
        }
        try {
            return job.step();
        } catch (IOException e) {
            throw new SiphonException(
                    ErrorCode.OPERATION_FAILED, "pull step on disk " + diskName + ": " + IoMessages.describe(e), e);
        }
    }

    Optional<BlockJobInfo> blockJobInfo(String domain, String diskName) {
        RunningDisk disk;
        synchronized (this) {
            DomainDefinition definition = definitions.get(domain);
            if (!started.isRunning(definition.name())) {
                definition.disk(diskName).orElseThrow(() -> StartedDomains.noDisk(definition, diskName));
                return Optional.empty();
            }
            disk = started.disk(definition, diskName);
        }
        return pulls.info(disk);
    }

    void blockJobAbort(String domain, String diskName, boolean async) {
        pulls.abort(diskWithJob(domain, diskName), async);
    }

    void blockJobSetSpeed(String domain, String diskName, long bytesPerSecond) {
        RunningDisk disk = diskWithJob(domain, diskName);
        pulls.setSpeed(disk.domain(), disk, bytesPerSecond);
    }

    void blockJobPause(String domain, String diskName) {
        pulls.pause(diskWithJob(domain, diskName));
    }

    void blockJobResume(String domain, String diskName) {
        pulls.resume(diskWithJob(domain, diskName));
    }

    /** The running disk a job verb names; a shut-off domain's disk has no job. */
    private synchronized RunningDisk diskWithJob(String domain, String diskName) {
        DomainDefinition definition = definitions.get(domain);
        if (!started.isRunning(definition.name())) {
            definition.disk(diskName).orElseThrow(() -> StartedDomains.noDisk(definition, diskName));
            throw DiskPulls.noJob(diskName);
        }
        return started.disk(definition, diskName);
    }

    /**
     * Stops every running domain for a daemon exit: jobs are cancelled but their records kept, so
     * they resume when the domain starts again; disks are flushed and closed; machines are left
     * running (their disks reconnect to the next daemon, which takes them over).
     */
    @Override
    public void close() throws IOException {
        pulls.exiting();
        List<String> names;
        synchronized (this) {
            for (String starting : List.copyOf(pendingStarts.keySet())) {
                giveUpStart(starting);
            }
            names = List.copyOf(started.names());
        }
        for (String name : names) {
            Optional<DomainMachine> machine;
            synchronized (this) {
                machine = machines.remove(name);
            }
            machine.ifPresent(DomainMachine::detach);
            try {
                stop(name, true);
            } catch (SiphonException e) {
                LOG.warn("stopping domain {} for exit: {}", name, e.getMessage());
            }
        }
        synchronized (this) {
            try {
                started.close();
            } finally {
                state.close();
            }
        }
    }
}
