package io.siphon.qemu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.siphon.domain.MachineBoot;
import io.siphon.domain.MachineDefinition;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class MachineCommandTest {
    @Test
    void aKernelBootMachineOnKvmWithASerialFile() {
        MachineDefinition machine = new MachineDefinition(
                (256L << 20) + 1,
                2,
                "qemu-system-x86_64",
                new MachineBoot.Kernel(Path.of("/g/vmlinuz"), Optional.of(Path.of("/g/initrd")), "console=ttyS0"),
                Optional.of(new io.siphon.domain.SerialPort.File(Path.of("/g/a,b.log"))),
                false);
        List<String> args = new MachineCommand(Path.of("/usr/bin/qemu-system-x86_64"), Accelerator.KVM)
                .arguments("web", machine, Path.of("/run/web.qmp"), true);
        assertEquals(
                List.of(
                        "-name",
                        "guest=web",
                        "-machine",
                        "pc,accel=kvm",
                        "-m",
                        "257",
                        "-smp",
                        "2",
                        "-nodefaults",
                        "-no-user-config",
                        "-display",
                        "none",
                        "-no-reboot",
                        "-qmp",
                        "unix:/run/web.qmp,server=on,wait=off",
                        "-cpu",
                        "host",
                        "-chardev",
                        "file,id=serial0,path=/g/a,,b.log",
                        "-serial",
                        "chardev:serial0",
                        "-kernel",
                        "/g/vmlinuz",
                        "-initrd",
                        "/g/initrd",
                        "-append",
                        "console=ttyS0",
                        "-S"),
                args);
    }

    @Test
    void theFirstDiskOfADiskBootIsTheBootDevice() {
        assertEquals(
                List.of("-device", "virtio-blk-pci,id=virtio-disk0,drive=disk0,bootindex=1"),
                MachineCommand.virtioDisk(MachineCommand.deviceId(0), "disk0", true));
    }

    @Test
    void aPtySerialIsQemusPtyChardevWithItsLog() {
        MachineCommand command = new MachineCommand(Path.of("/usr/bin/qemu-system-x86_64"), Accelerator.TCG);
        for (var expected : List.of(
                List.of(Optional.<Path>empty(), "pty,id=serial0"),
                List.of(Optional.of(Path.of("/l/a,b.log")), "pty,id=serial0,logfile=/l/a,,b.log,logappend=on"))) {
            @SuppressWarnings("unchecked")
            Optional<Path> log = (Optional<Path>) expected.get(0);
            MachineDefinition machine = new MachineDefinition(
                    64L << 20,
                    1,
                    "qemu-system-x86_64",
                    new MachineBoot.FirstDisk(),
                    Optional.of(new io.siphon.domain.SerialPort.Pty(log)),
                    true);
            List<String> args = command.arguments("d", machine, Path.of("/run/d.qmp"), false);
            int at = args.indexOf("-chardev");
            assertEquals(List.of("-chardev", expected.get(1), "-serial", "chardev:serial0"), args.subList(at, at + 4));
        }
    }
}
