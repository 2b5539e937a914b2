package io.siphon.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.api.BlockJobEvent;
import io.siphon.api.BlockJobInfo;
import io.siphon.api.BlockJobStatus;
import io.siphon.api.Connection;
import io.siphon.api.Domain;
import io.siphon.api.DomainState;
import io.siphon.api.Siphon;
import io.siphon.api.SpeedFlag;
import io.siphon.testing.QemuTools;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A daemon child JVM driven through the remote API while qemu-io uses the disk over NBD. */
class DaemonEndToEndTest {
    private static final int MIB = 1 << 20;

    @TempDir
    Path dir;

    /** A 16 MiB raw template full of data, a qcow2 clone of it, and the clone's flattened contents. */
    private Path clone(String name) throws Exception {
        Path base = dir.resolve(name + "-template.raw");
        Files.write(base, new byte[16 * MIB]);
        for (int i = 0; i < 16; i++) {
            QemuTools.write(base, "raw", 0x40 + i, (long) i * MIB, MIB);
        }
        Path top = dir.resolve(name + ".qcow2");
        QemuTools.createOverlay(top, base.getFileName().toString(), "raw");
        QemuTools.flatten(top, dir.resolve(name + "-expected.raw"));
        return top;
    }

    private static String xml(String name, Path top) {
        return "<domain type='kvm'><name>" + name + "</name><devices><disk type='file' device='disk'>"
                + "<driver name='qemu' type='qcow2' copy_on_read='on'/><source file='" + top + "'/>"
                + "<target dev='vda' bus='virtio'/></disk></devices></domain>";
    }

    private static List<String> openFiles(long pid) throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc", Long.toString(pid), "fd"))) {
            return fds.map(fd -> {
                        try {
                            return Files.readSymbolicLink(fd).toString();
                        } catch (IOException e) {
                            return ""; // closed meanwhile
                        }
                    })
                    .toList();
        }
    }

    @Test
    void aGuestWritesOverNbdWhileAPullRunsAndTheTemplateIsLetGo() throws Exception {
        Path top = clone("web");
        Path template = dir.resolve("web-template.raw");
        Path state = dir.resolve("state");
        try (DaemonProcess daemon = DaemonProcess.start(state);
                Connection connection = Siphon.connect("siphon+unix://" + daemon.socket())) {
            BlockingQueue<BlockJobEvent> events = new LinkedBlockingQueue<>();
            connection.addBlockJobListener(events::add);
            Domain domain = connection.define(xml("web", top));
            domain.start();
            String uri = domain.disks().getFirst().nbdUri().orElseThrow();
            assertTrue(
                    openFiles(daemon.pid()).contains(template.toString()),
                    "the template is open while it backs the clone");

            domain.blockPull("vda", 4, Set.of()); // 4 MiB/s: about 4 s for 16 MiB
            // the guest's write lands in a range the pull has not reached yet, and wins
            QemuTools.ok(
                    "qemu-io",
                    "-f",
                    "raw",
                    "-c",
                    "write -P 0xab " + (12 * MIB + 4096) + " 65536",
                    "-c",
                    "read -P 0xab " + (12 * MIB + 4096) + " 65536",
                    "-c",
                    "read -P 0x41 " + MIB + " 4096",
                    uri);
            domain.blockJobSetSpeed("vda", 0, Set.of(SpeedFlag.BANDWIDTH_BYTES));
            assertEquals(
                    BlockJobStatus.COMPLETED, TestDomains.awaitEvent(events).status());

            List<String> open = openFiles(daemon.pid());
            assertTrue(open.contains(top.toString()), open::toString);
            assertTrue(!open.contains(template.toString()), () -> "the daemon still holds the template: " + open);
            QemuTools.ok("qemu-io", "-f", "raw", "-c", "read -P 0xab " + (12 * MIB + 4096) + " 65536", uri);
            domain.shutdown();
        }
        assertNull(QemuTools.backingName(top));
        Path expected = dir.resolve("web-expected.raw");
        QemuTools.write(expected, "raw", 0xab, 12 * MIB + 4096, 65536);
        QemuTools.assertSameContent(top, expected);
        QemuTools.ok("qemu-img", "check", top.toString());
    }

    @Test
    void aPullResumesAfterTheDaemonIsKilledAndCompletesForANewClient() throws Exception {
        Path top = clone("db");
        Path state = dir.resolve("state");
        DaemonProcess first = DaemonProcess.start(state);
        try (Connection connection = Siphon.connect("siphon+unix://" + first.socket())) {
            Domain domain = connection.define(xml("db", top));
            domain.start();
            domain.blockPull("vda", 1, Set.of()); // 1 MiB/s: 16 s for the whole disk
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (domain.blockJobInfo("vda").orElseThrow().curBytes() < MIB) {
                assertTrue(System.nanoTime() < deadline, "the pull made no progress");
                Thread.sleep(50);
            }
        } finally {
            first.kill();
        }
        QemuTools.ok("qemu-img", "check", top.toString());
        assertEquals("db-template.raw", QemuTools.backingName(top));

        try (DaemonProcess second = DaemonProcess.start(state);
                Connection connection = Siphon.connect("siphon+unix://" + second.socket())) {
            BlockingQueue<BlockJobEvent> events = new LinkedBlockingQueue<>();
            connection.addBlockJobListener(events::add);
            Domain domain = connection.lookup("db");
            assertEquals(DomainState.SHUTOFF, domain.info().state());
            domain.start();
            BlockJobInfo resumed = domain.blockJobInfo("vda").orElseThrow();
            assertEquals(MIB, resumed.bandwidthBytesPerSecond(), "the pull resumed with its bandwidth");
            domain.blockJobSetSpeed("vda", 0, Set.of());
            BlockJobEvent event = TestDomains.awaitEvent(events);
            assertEquals(
                    new BlockJobEvent("db", "vda", event.type(), BlockJobStatus.COMPLETED, Optional.empty()), event);
            assertEquals(Optional.empty(), domain.blockJobInfo("vda"));
            domain.shutdown();
            assertTrue(second.log().contains("resuming the pull recorded before the restart"), second.log());
        }
        assertNull(QemuTools.backingName(top));
        QemuTools.assertSameContent(top, dir.resolve("db-expected.raw"));
    }

    @Test
    void aCleanDaemonStopKeepsThePullForTheNextStart() throws Exception {
        Path top = clone("app");
        Path state = dir.resolve("state");
        try (DaemonProcess first = DaemonProcess.start(state);
                Connection connection = Siphon.connect("siphon+unix://" + first.socket())) {
            Domain domain = connection.define(xml("app", top));
            domain.start();
            domain.blockPull("vda", 65536, Set.of(io.siphon.api.PullFlag.BANDWIDTH_BYTES));
        } // SIGTERM: the daemon stops the domain, flushing it, and keeps the job record
        try (DaemonProcess second = DaemonProcess.start(state);
                Connection connection = Siphon.connect("siphon+unix://" + second.socket())) {
            BlockingQueue<BlockJobEvent> events = new LinkedBlockingQueue<>();
            connection.addBlockJobListener(events::add);
            Domain domain = connection.lookup("app");
            domain.start();
            assertEquals(65536, domain.blockJobInfo("vda").orElseThrow().bandwidthBytesPerSecond());
            domain.blockJobAbort("vda", Set.of());
            assertEquals(BlockJobStatus.CANCELED, TestDomains.awaitEvent(events).status());
            domain.shutdown();
            domain.start();
            assertEquals(Optional.empty(), domain.blockJobInfo("vda"), "an aborted pull is not resumed");
            domain.shutdown();
        }
        assertEquals("app-template.raw", QemuTools.backingName(top));
        QemuTools.assertSameContent(top, dir.resolve("app-expected.raw"));
    }
}
