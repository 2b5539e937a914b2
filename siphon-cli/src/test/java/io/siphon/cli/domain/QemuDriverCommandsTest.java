package io.siphon.cli.domain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.cli.Cli;
import io.siphon.testing.QemuTools;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The virsh-shaped commands end to end on {@code qemu:///DIR}: a real libvirt XML defined, started
 * in a qemu-storage-daemon (which outlives each command, so every command finds it again), written
 * over NBD by qemu-io, pulled with {@code blockpull --wait}; then QEMU holds no descriptor of the
 * template, the backing link is gone and the disk reads as the chain did.
 */
@Tag("interop")
class QemuDriverCommandsTest {
    private static final Pattern NBD_URI = Pattern.compile("nbd\\+unix:///d/vda\\?socket=\\S+");

    @TempDir
    Path dir;

    private String uri;

    @BeforeEach
    void images() throws IOException, InterruptedException {
        uri = "qemu://" + dir.resolve("state").toAbsolutePath();
        assertEquals(
                0,
                Cli.qemuImg(dir, "create", "-q", "-f", "qcow2", "base.qcow2", "16M")
                        .status());
        Cli.qemuIo(dir, "qcow2", "base.qcow2", "write -P 0x11 0 8M", "write -P 0x22 12M 1M");
        assertEquals(
                0,
                Cli.qemuImg(dir, "create", "-q", "-f", "qcow2", "-b", "base.qcow2", "-F", "qcow2", "top.qcow2")
                        .status());
        Files.writeString(dir.resolve("d.xml"), libvirtXml(dir.resolve("top.qcow2")));
    }

    @AfterEach
    void stop() {
        siphon("destroy", "d"); // a failed test must not leave QEMU running
    }

    /**
     * A domain XML as virsh dumpxml prints it, with parts Siphon ignores; its {@code <os>} has no
     * {@code <boot>}, so it describes no machine and starts the disks only.
     */
    private static String libvirtXml(Path top) {
        return """
                <domain type='kvm'>
                  <name>d</name>
                  <uuid>6f1b2f0e-6a38-4c9b-9d0e-3f5c1d2a7b10</uuid>
                  <memory unit='KiB'>1048576</memory>
                  <currentMemory unit='KiB'>1048576</currentMemory>
                  <vcpu placement='static'>2</vcpu>
                  <os>
                    <type arch='x86_64' machine='pc-q35-7.2'>hvm</type>
                  </os>
                  <features><acpi/><apic/></features>
                  <cpu mode='host-passthrough' check='none' migratable='on'/>
                  <clock offset='utc'/>
                  <on_poweroff>destroy</on_poweroff>
                  <devices>
                    <emulator>/usr/bin/qemu-system-x86_64</emulator>
                    <disk type='file' device='disk'>
                      <driver name='qemu' type='qcow2' cache='none' discard='unmap'/>
                      <source file='%s'/>
                      <target dev='vda' bus='virtio'/>
                      <address type='pci' domain='0x0000' bus='0x04' slot='0x00' function='0x0'/>
                    </disk>
                    <disk type='file' device='cdrom'>
                      <driver name='qemu' type='raw'/>
                      <target dev='sda' bus='sata'/>
                      <readonly/>
                    </disk>
                    <interface type='network'>
                      <source network='default'/>
                      <model type='virtio'/>
                    </interface>
                    <console type='pty'/>
                  </devices>
                </domain>
                """.formatted(top);
    }

    private Cli.Result siphon(String... args) {
        List<String> all = new ArrayList<>(List.of("-c", uri));
        all.addAll(List.of(args));
        return Cli.siphon(all.toArray(String[]::new));
    }

    private Cli.Result ok(String... args) {
        Cli.Result result = siphon(args);
        assertEquals(0, result.status(), List.of(args) + ": " + result);
        return result;
    }

    private long qemuPid() throws IOException {
        return Long.parseLong(Files.readString(dir.resolve("state/run/d.pid"), StandardCharsets.US_ASCII)
                .trim());
    }

    @Test
    void defineStartWriteOverNbdPullAndTheTemplateIsLetGo() throws IOException, InterruptedException {
        ok("define", dir.resolve("d.xml").toString());
        // what the disk must read as: the chain, flattened, with the guest's write below
        assertEquals(
                0,
                Cli.qemuImg(dir, "convert", "-O", "raw", "top.qcow2", "expected.raw")
                        .status());
        Cli.qemuIo(dir, "raw", "expected.raw", "write -P 0x33 4M 64k");
        Cli.Result started = ok("start", "d");
        assertEquals("Domain 'd' started\n\n", started.out());
        assertFalse(started.err().contains("runs only while"), started.err());
        String details = ok("domblklist", "d", "--details").out();
        Matcher nbd = NBD_URI.matcher(details);
        assertTrue(nbd.find(), details);
        assertTrue(details.contains(" file   disk     vda      " + dir.resolve("top.qcow2")), details);

        Cli.qemuIo(dir, "raw", nbd.group(), "write -P 0x33 4M 64k", "read -P 0x11 0 64k");
        Path base = dir.resolve("base.qcow2").toAbsolutePath();
        long pid = qemuPid();
        assertTrue(QemuTools.openFiles(pid).contains(base), "QEMU does not hold the template before the pull");

        Cli.Result pull = ok("blockpull", "d", "vda", "--wait", "--verbose");
        assertEquals("Pull complete\n", pull.out());
        assertEquals(
                "No current block job for vda\n\n", ok("blockjob", "d", "vda").out());
        List<Path> open = QemuTools.openFiles(pid);
        assertFalse(open.contains(base), () -> "QEMU still holds the template: " + open);
        Cli.Result info = Cli.qemuImg(dir, "info", "-U", "top.qcow2");
        assertFalse(info.out().contains("backing file"), info.out());
        Cli.qemuIo(dir, "raw", nbd.group(), "read -P 0x33 4M 64k", "read -P 0x22 12M 1M");

        assertEquals("Domain 'd' is being shutdown\n\n", ok("shutdown", "d").out());
        assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "QEMU outlived shutdown");
        Cli.Result compare = Cli.qemuImg(dir, "compare", "top.qcow2", "expected.raw");
        assertEquals(0, compare.status(), compare.toString());
    }

    @Test
    void stepAndDiskStatisticsAreRefusedAsNotSupportedButSizesAndXmlAreThere() {
        ok("define", dir.resolve("d.xml").toString());
        ok("start", "d");
        Cli.Result step = siphon("blockpull", "d", "vda", "--step");
        assertEquals(1, step.status(), step.toString());
        assertTrue(step.err().contains("not supported by the qemu driver"), step.err());
        assertEquals(1, step.err().lines().count(), step.err());
        Cli.Result stats = siphon("domblkstat", "d", "vda");
        assertEquals(1, stats.status(), stats.toString());
        assertTrue(stats.err().contains("not supported by the qemu driver"), stats.err());
        String info = ok("domblkinfo", "d", "vda").out();
        assertTrue(info.startsWith("Capacity:       "), info);
        assertTrue(ok("dumpxml", "d").out().contains("<name>d</name>"));
    }
}
