package io.siphon.daemon;

import io.siphon.api.ErrorCode;
import io.siphon.api.SiphonException;
import io.siphon.daemon.vm.DomainMachine;
import io.siphon.daemon.vm.NbdDrive;
import io.siphon.domain.DomainDefinition;
import io.siphon.qemu.Machine;
import io.siphon.qemu.MachineCommand;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BiConsumer;

/**
 * The machines of the started domains that describe one ({@link DomainMachine}): launched over
 * the domain's NBD exports, watched so that a machine ending by itself is reported, and found
 * again after a daemon restart. Not thread-safe: the domain manager serializes calls, and is told
 * of an end on a thread of its own.
 */
final class DomainMachines {
    private final Path run;
    private final Map<String, DomainMachine> machines = new HashMap<>();
    private final BiConsumer<DomainMachine, Machine.Exit> ended;

    /** Machines whose files are in {@code run}; {@code ended} hears of each end, on a thread of its own. */
    DomainMachines(Path run, BiConsumer<DomainMachine, Machine.Exit> ended) {
        this.run = run;
        this.ended = ended;
    }

    /** The checked command of {@code definition}'s machine, if it describes one, before any disk opens. */
    static Optional<MachineCommand> prepare(DomainDefinition definition) {
        try {
            return definition.machine().map(MachineCommand::prepare);
        } catch (SiphonException e) {
            throw new SiphonException(
                    e.code(), "cannot start domain '" + definition.name() + "': " + e.getMessage(), e);
        }
    }

    /** Launches the machine of a domain whose disks are exported, and watches it. */
    void launch(DomainDefinition definition, MachineCommand command, List<RunningDisk> disks, Path nbdSocket) {
        String name = definition.name();
        try {
            watch(DomainMachine.launch(
                    name, definition.machine().orElseThrow(), command, drives(disks, nbdSocket), run));
        } catch (RuntimeException e) {
            throw new SiphonException(
                    ErrorCode.OPERATION_FAILED, "cannot start domain '" + name + "': " + e.getMessage(), e);
        }
    }

    private static List<NbdDrive> drives(List<RunningDisk> disks, Path nbdSocket) {
        return disks.stream()
                .map(d -> new NbdDrive(
                        d.target(),
                        nbdSocket,
                        DiskExports.exportName(d.domain(), d.target()),
                        d.definition().readOnly()))
                .toList();
    }

    /** The machine a previous daemon left running for {@code definition}, if it still runs (not yet watched). */
    Optional<DomainMachine> reattach(DomainDefinition definition) {
        return definition.machine().isEmpty() ? Optional.empty() : DomainMachine.reattach(definition.name(), run);
    }

    /** Records a running machine and tells of its end, unless it was asked to stop. */
    void watch(DomainMachine machine) {
        machines.put(machine.domain(), machine);
        machine.ended()
                .thenAccept(exit -> Thread.ofVirtual()
                        .name("machine-ended-" + machine.domain())
                        .start(() -> ended.accept(machine, exit)));
    }

    /** Whether {@code machine} is the one watched for its domain and ended without being asked to. */
    boolean endedByItself(DomainMachine machine) {
        return !machine.isStopping() && machines.get(machine.domain()) == machine;
    }

    /** The machine of {@code domain}, if it has one. */
    Optional<DomainMachine> get(String domain) {
        return Optional.ofNullable(machines.get(domain));
    }

    /** Forgets the machine of {@code domain} (stopped, or left running), returning it. */
    Optional<DomainMachine> remove(String domain) {
        return Optional.ofNullable(machines.remove(domain));
    }

    /** Stops a machine outside the manager's lock: asks the guest when {@code flush}, else kills it. */
    static void stop(DomainMachine machine, boolean flush) {
        if (flush) {
            machine.shutdown(Machine.shutdownTimeout());
        } else {
            machine.destroy();
        }
    }
}
