package io.siphon.qemu;

import io.siphon.domain.DomainDefinition;
import io.siphon.domain.MachineBoot;
import io.siphon.domain.MachineDefinition;
import io.siphon.qemu.qmp.QmpClient;
import io.siphon.qemu.qmp.QmpCommand;
import io.siphon.qemu.qmp.QmpEvent;
import io.siphon.qemu.qmp.QmpEvents;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * What the qemu driver does differently for a domain that describes a machine, as libvirt does it:
 * its disks live inside the VM's own {@code qemu-system-x86_64}, launched paused ({@code -S}); the
 * driver adds each chain's nodes and NBD export over QMP as for {@code qemu-storage-daemon}, then a
 * virtio-blk device over each disk's top node, then lets the guest run ({@code cont}).
 */
final class QemuMachines {
    private static final Duration LAST_EVENT_WAIT = Duration.ofSeconds(1);

    private QemuMachines() {}

    /**
     * Checks what the machine needs (emulator, kernel, initrd, accelerator; each problem names the
     * file or accelerator) and launches it paused with its monitor on {@code files.qmpSocket()}.
     */
    static QemuProcess launch(DomainDefinition definition, RunFiles files) {
        MachineDefinition machine = definition.machine().orElseThrow();
        MachineCommand command = MachineCommand.prepare(machine);
        return QemuProcess.launch(
                command.emulator().toString(),
                command.arguments(definition.name(), machine, files.qmpSocket(), true),
                files);
    }

    /** Attaches each disk's exported node as the guest's virtio disk, in order, and starts the guest. */
    static void attachAndRun(QmpClient qmp, DomainDefinition definition, List<QemuDisk> disks) {
        boolean bootFromDisk = definition.machine().orElseThrow().boot() instanceof MachineBoot.FirstDisk;
        for (QemuDisk disk : disks) {
            int index = disks.indexOf(disk);
            qmp.execute(new QmpCommand.VirtioBlkAdd(
                    MachineCommand.deviceId(index),
                    disk.exportedNode(),
                    bootFromDisk && index == 0 ? Optional.of(1) : Optional.empty()));
        }
        qmp.execute(new QmpCommand.Cont());
    }

    /** Presses the power button and waits; a guest that does not power off is killed. */
    static void powerdown(QemuProcess process) {
        Machine.powerdown(process, Machine.shutdownTimeout());
    }

    /** Whether QMP {@code SHUTDOWN} {@code event} says the guest powered itself off (not a kill or quit). */
    static boolean isGuestShutdown(QmpEvent event) {
        return event.data(QmpEvents.Shutdown.class).guest();
    }

    /**
     * Whether a domain whose process ended was a machine whose guest powered itself off (the domain
     * is then shut down, not crashed); the SHUTDOWN event comes just before QEMU exits.
     */
    static boolean poweredOffByGuest(RunningDomain domain, DomainDefinition definition) {
        return definition.machine().isPresent() && domain.poweredOffByGuest(LAST_EVENT_WAIT);
    }
}
