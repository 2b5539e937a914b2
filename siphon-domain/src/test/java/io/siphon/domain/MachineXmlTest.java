package io.siphon.domain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.api.ErrorCode;
import io.siphon.api.SiphonException;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class MachineXmlTest {
    private static final String KERNEL_BOOT = """
            <domain type='qemu'>
              <name>guest</name>
              <uuid>0b6d2f0e-7f5e-4a4f-9a59-6f7d38f1c0de</uuid>
              <memory unit='MiB'>256</memory>
              <currentMemory unit='MiB'>256</currentMemory>
              <vcpu placement='static'>2</vcpu>
              <os>
                <type arch='x86_64' machine='pc'>hvm</type>
                <kernel>/guests/vmlinuz</kernel>
                <initrd>/guests/initrd.img</initrd>
                <cmdline>console=ttyS0 panic=-1</cmdline>
              </os>
              <on_poweroff>destroy</on_poweroff>
              <devices>
                <emulator>/usr/bin/qemu-system-x86_64</emulator>
                <disk type='file' device='disk'>
                  <driver name='qemu' type='qcow2'/>
                  <source file='/guests/root.qcow2'/>
                  <target dev='vda' bus='virtio'/>
                </disk>
                <serial type='file'><source path='/guests/console.log'/><target port='0'/></serial>
                <console type='file'><source path='/guests/console.log'/><target type='serial' port='0'/></console>
                <memballoon model='none'/>
              </devices>
            </domain>
            """;

    @Test
    void readsADirectKernelBootMachineAndKeepsTheXmlAsGiven() {
        DomainDefinition definition = DomainXml.parse(KERNEL_BOOT);
        assertEquals(
                Optional.of(new MachineDefinition(
                        256L << 20,
                        2,
                        "/usr/bin/qemu-system-x86_64",
                        new MachineBoot.Kernel(
                                Path.of("/guests/vmlinuz"),
                                Optional.of(Path.of("/guests/initrd.img")),
                                "console=ttyS0 panic=-1"),
                        Optional.of(new SerialPort.File(Path.of("/guests/console.log"))),
                        true)),
                definition.machine());
        assertEquals("virtio", definition.disks().getFirst().bus());
        assertEquals(KERNEL_BOOT, definition.xml());
    }

    @Test
    void bootFromDiskWithDefaultsAndAConsoleOnly() {
        DomainDefinition definition = DomainXml.parse(
                "<domain type='kvm'><name>d</name><memory>1048576</memory>"
                        + "<os><type>hvm</type><boot dev='hd'/></os><devices><disk><source file='/d.qcow2'/>"
                        + "<target dev='vda'/></disk><console type='file'><source path='/c.log'/></console></devices></domain>");
        assertEquals(
                Optional.of(new MachineDefinition(
                        1L << 30,
                        1,
                        MachineDefinition.DEFAULT_EMULATOR,
                        new MachineBoot.FirstDisk(),
                        Optional.of(new SerialPort.File(Path.of("/c.log"))),
                        false)),
                definition.machine());
    }

    @Test
    void anOsWithNeitherKernelNorBootIsADisksOnlyDomain() {
        assertEquals(
                Optional.empty(),
                DomainXml.parse("<domain><name>d</name><memory>1048576</memory><os><type>hvm</type></os></domain>")
                        .machine());
        assertEquals(
                Optional.empty(),
                DomainXml.parse("<domain><name>d</name></domain>").machine());
    }

    private static void refused(String inner, String expected) {
        String xml = "<domain><name>m</name>" + inner + "</domain>";
        SiphonException e = assertThrows(SiphonException.class, () -> DomainXml.parse(xml));
        assertEquals(ErrorCode.INVALID_ARG, e.code());
        assertTrue(e.getMessage().contains(expected), () -> "'" + e.getMessage() + "' lacks '" + expected + "'");
    }

    @Test
    void badMachinesNameWhatIsWrong() {
        String os = "<os><kernel>/k</kernel></os>";
        refused(os, "needs <memory>");
        refused("<memory unit='parsecs'>1</memory>" + os, "'parsecs'");
        refused("<memory>lots</memory>" + os, "'lots'");
        refused("<memory unit='KiB'>1024</memory>" + os, "less than 16 MiB");
        refused("<memory unit='TiB'>99999999</memory>" + os, "'99999999'");
        String memory = "<memory unit='MiB'>64</memory>";
        refused(memory + "<vcpu>0</vcpu>" + os, "<vcpu> '0'");
        refused(memory + "<os><kernel>vmlinuz</kernel></os>", "<kernel> 'vmlinuz' must be an absolute path");
        refused(memory + "<os><kernel>/k</kernel><initrd>i.img</initrd></os>", "<initrd> 'i.img'");
        refused(memory + "<os><boot dev='cdrom'/></os>", "dev='cdrom'");
        refused(memory + os + "<devices><serial type='tcp'/></devices>", "<serial type='tcp'>");
        refused(
                memory + os + "<devices><serial type='pty'><log file='c.log'/></serial></devices>",
                "<log file> 'c.log'");
        refused(memory + os + "<devices><serial type='file'/></devices>", "no <source path");
        refused(memory + os + "<devices><serial type='file'><source path='c.log'/></serial></devices>", "'c.log'");
        refused(
                memory + os + "<devices><disk><source file='/a'/><target dev='sda' bus='sata'/></disk></devices>",
                "disk sda: bus 'sata'");
    }

    @Test
    void aPtySerialAsVirtInstallWritesIt() {
        String machine = "<domain type='kvm'><name>d</name><memory>65536</memory><os><boot dev='hd'/></os><devices>";
        assertEquals(
                Optional.of(new SerialPort.Pty(Optional.empty())),
                DomainXml.parse(machine + "<serial type='pty'><target port='0'/></serial>"
                                + "<console type='pty'><target type='serial' port='0'/></console></devices></domain>")
                        .machine()
                        .orElseThrow()
                        .serial());
        assertEquals(
                Optional.of(new SerialPort.Pty(Optional.of(Path.of("/var/log/d.log")))),
                DomainXml.parse(machine + "<console type='pty'><log file='/var/log/d.log' append='on'/></console>"
                                + "</devices></domain>")
                        .machine()
                        .orElseThrow()
                        .serial());
    }
}
