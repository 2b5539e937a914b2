package io.siphon.qemu;

import io.siphon.api.ErrorCode;
import io.siphon.api.SiphonException;
import io.siphon.domain.MachineBoot;
import io.siphon.domain.MachineDefinition;
import io.siphon.domain.SerialPort;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The {@code qemu-system-x86_64} command line of a machine domain, without its disks: memory, CPUs,
 * accelerator, boot, the serial port's file and the QMP monitor; no default devices, no display,
 * and {@code -no-reboot}, so that a guest's reboot or power-off ends the process. Its disks are
 * {@link #virtioDisk} devices over block nodes the caller adds. Immutable.
 *
 * @param emulator the resolved emulator binary
 * @param accelerator KVM or TCG
 */
public record MachineCommand(Path emulator, Accelerator accelerator) {
    private static final long MIB = 1L << 20;

    /**
     * Checks what a start of {@code machine} needs before anything is started: the emulator (on PATH
     * or by path), the kernel and initrd files, the serial file's directory, and an accelerator.
     * Each problem is {@link ErrorCode#OPERATION_FAILED} naming the file or the accelerator.
     */
    public static MachineCommand prepare(MachineDefinition machine) {
        Path emulator = QemuProcess.findOnPath(machine.emulator());
        if (machine.boot() instanceof MachineBoot.Kernel kernel) {
            readable("kernel", kernel.kernel());
            kernel.initrd().ifPresent(initrd -> readable("initrd", initrd));
        }
        Optional<Path> serialFile = machine.serial().flatMap(MachineCommand::serialFile);
        Optional<Path> serialDirectory = serialFile.map(Path::getParent);
        if (serialDirectory.isPresent() && !Files.isDirectory(serialDirectory.get())) {
            throw new SiphonException(
                    ErrorCode.OPERATION_FAILED,
                    "serial file " + serialFile.get() + ": no directory " + serialDirectory.get());
        }
        return new MachineCommand(emulator, AcceleratorProbe.choose(emulator, machine.softwareOnly()));
    }

    /** The file a serial port writes: its path, or a pty's log. */
    private static Optional<Path> serialFile(SerialPort serial) {
        return switch (serial) {
            case SerialPort.File file -> Optional.of(file.path());
            case SerialPort.Pty pty -> pty.log();
        };
    }

    /** QEMU's chardev for the port; a pty's path is printed by QEMU ("char device redirected to …"). */
    private static String chardev(SerialPort serial) {
        return switch (serial) {
            case SerialPort.File file ->
                "file,id=serial0,path=" + option(file.path().toString());
            case SerialPort.Pty pty ->
                "pty,id=serial0"
                        + pty.log()
                                .map(log -> ",logfile=" + option(log.toString()) + ",logappend=on")
                                .orElse("");
        };
    }

    private static void readable(String what, Path file) {
        if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
            throw new SiphonException(ErrorCode.OPERATION_FAILED, what + " " + file + " is missing or unreadable");
        }
    }

    /**
     * The arguments for domain {@code name}: the monitor on {@code qmpSocket}; {@code paused} adds
     * {@code -S} (the guest waits for QMP {@code cont}).
     */
    public List<String> arguments(String name, MachineDefinition machine, Path qmpSocket, boolean paused) {
        List<String> args = new ArrayList<>(List.of(
                "-name",
                "guest=" + option(name),
                "-machine",
                "pc,accel=" + accelerator.qemuName(),
                "-m",
                Long.toString((machine.memoryBytes() + MIB - 1) / MIB),
                "-smp",
                Integer.toString(machine.vcpus()),
                "-nodefaults",
                "-no-user-config",
                "-display",
                "none",
                "-no-reboot",
                "-qmp",
                "unix:" + option(qmpSocket.toString()) + ",server=on,wait=off"));
        if (accelerator == Accelerator.KVM) {
            args.addAll(List.of("-cpu", "host"));
        }
        machine.serial()
                .ifPresent(serial -> args.addAll(List.of("-chardev", chardev(serial), "-serial", "chardev:serial0")));
        if (machine.boot() instanceof MachineBoot.Kernel kernel) {
            args.addAll(List.of("-kernel", kernel.kernel().toString()));
            kernel.initrd().ifPresent(initrd -> args.addAll(List.of("-initrd", initrd.toString())));
            if (!kernel.cmdline().isEmpty()) {
                args.addAll(List.of("-append", kernel.cmdline()));
            }
        }
        if (paused) {
            args.add("-S");
        }
        return args;
    }

    /**
     * A virtio-blk-pci device over block node {@code nodeName}; the first disk of a machine that
     * boots from disk is the boot device, as libvirt's {@code <boot dev='hd'/>} makes it.
     */
    public static List<String> virtioDisk(String deviceId, String nodeName, boolean boot) {
        return List.of(
                "-device", "virtio-blk-pci,id=" + deviceId + ",drive=" + nodeName + (boot ? ",bootindex=1" : ""));
    }

    /** The device id of the machine's {@code index}th disk, as libvirt names it. */
    public static String deviceId(int index) {
        return "virtio-disk" + index;
    }

    /** A value inside a QEMU option list, where a comma is written twice. */
    private static String option(String value) {
        return value.replace(",", ",,");
    }
}
