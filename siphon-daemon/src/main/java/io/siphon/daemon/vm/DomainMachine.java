package io.siphon.daemon.vm;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.siphon.domain.MachineBoot;
import io.siphon.domain.MachineDefinition;
import io.siphon.qemu.Machine;
import io.siphon.qemu.MachineCommand;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The VM of a started domain on the embedded driver: a {@code qemu-system-x86_64} whose disks are
 * NBD clients of the daemon's exports. Each client has a reconnect delay ({@link
 * #RECONNECT_DELAY}): when the daemon dies and comes back within it, the guest's requests wait and
 * are sent again instead of failing. Thread-safe.
 */
public final class DomainMachine {
    private static final Logger LOG = LoggerFactory.getLogger(DomainMachine.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    /** How long a guest's disk requests wait for a daemon that went away. */
    public static final Duration RECONNECT_DELAY = Duration.ofSeconds(60);

    private final String domain;
    private final Machine machine;
    private volatile boolean stopping;

    private DomainMachine(String domain, Machine machine) {
        this.domain = domain;
        this.machine = machine;
    }

    /** Launches {@code definition}'s machine (checked by {@code command}) over {@code drives}. */
    public static DomainMachine launch(
            String domain, MachineDefinition definition, MachineCommand command, List<NbdDrive> drives, Path run) {
        List<String> arguments =
                new ArrayList<>(command.arguments(domain, definition, Machine.qmpSocket(run, domain), false));
        arguments.addAll(driveArguments(drives, definition.boot() instanceof MachineBoot.FirstDisk));
        return new DomainMachine(domain, Machine.launch(command, arguments, run, domain));
    }

    /** The machine {@code domain} left running (a daemon that died or exited), if it still runs. */
    public static Optional<DomainMachine> reattach(String domain, Path run) {
        return Machine.reattach(run, domain).map(machine -> new DomainMachine(domain, machine));
    }

    static List<String> driveArguments(List<NbdDrive> drives, boolean bootFromFirst) {
        List<String> arguments = new ArrayList<>();
        for (int i = 0; i < drives.size(); i++) {
            NbdDrive drive = drives.get(i);
            String node = "disk" + i;
            ObjectNode blockdev = JSON.createObjectNode();
            blockdev.put("driver", "nbd");
            blockdev.put("node-name", node);
            ObjectNode server = blockdev.putObject("server");
            server.put("type", "unix");
            server.put("path", drive.socket().toString());
            blockdev.put("export", drive.exportName());
            blockdev.put("reconnect-delay", RECONNECT_DELAY.toSeconds());
            blockdev.put("read-only", drive.readOnly());
            arguments.add("-blockdev");
            arguments.add(blockdev.toString());
            arguments.addAll(MachineCommand.virtioDisk(MachineCommand.deviceId(i), node, bootFromFirst && i == 0));
        }
        return arguments;
    }

    public String domain() {
        return domain;
    }

    public long pid() {
        return machine.pid();
    }

    /** Completes when the process has ended, however it ended. */
    public CompletableFuture<Machine.Exit> ended() {
        return machine.ended();
    }

    /** Whether {@link #shutdown} or {@link #destroy} was called: an end that follows is theirs. */
    public boolean isStopping() {
        return stopping;
    }

    /** Asks the guest to power off, kills it after {@code timeout}; returns whether it obeyed. */
    public boolean shutdown(Duration timeout) {
        stopping = true;
        boolean obeyed = machine.powerdown(timeout);
        deleteRunFiles();
        return obeyed;
    }

    /** Kills the machine at once. */
    public void destroy() {
        stopping = true;
        machine.kill();
        deleteRunFiles();
    }

    /** Lets go of a machine that keeps running (the daemon exits); a later daemon reattaches it. */
    public void detach() {
        stopping = true;
        LOG.info("domain {}: machine pid {} left running; its disks reconnect to the next daemon", domain, pid());
        machine.close();
    }

    /** Removes the run files of a machine that ended by itself. */
    public void deleteRunFiles() {
        try {
            machine.deleteRunFiles();
        } catch (IOException e) {
            LOG.warn("domain {}: removing the machine's run files: {}", domain, e.toString());
        }
    }
}
