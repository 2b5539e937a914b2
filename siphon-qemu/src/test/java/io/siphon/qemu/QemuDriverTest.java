package io.siphon.qemu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.api.BlockJobEvent;
import io.siphon.api.BlockJobStatus;
import io.siphon.api.Connection;
import io.siphon.api.Domain;
import io.siphon.api.DomainState;
import io.siphon.api.ErrorCode;
import io.siphon.api.LifecycleEvent;
import io.siphon.api.PullFlag;
import io.siphon.api.Siphon;
import io.siphon.api.SiphonException;
import io.siphon.testing.QemuTools;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the qemu driver does beyond the contract: QEMU's processes, descriptors, crashes and reconnection. */
@Tag("interop")
class QemuDriverTest {
    private static final long MIB = 1 << 20;

    @TempDir
    Path dir;

    private Connection connection;
    private final BlockingQueue<BlockJobEvent> jobEvents = new LinkedBlockingQueue<>();
    private final BlockingQueue<LifecycleEvent> lifecycleEvents = new LinkedBlockingQueue<>();

    @BeforeEach
    void open() {
        connection = connect();
    }

    @AfterEach
    void stopAll() {
        for (var domain : connection.list()) {
            if (domain.state() == DomainState.RUNNING) {
                connection.lookup(domain.name()).destroy();
            }
        }
        connection.close();
    }

    private Connection connect() {
        Connection c = Siphon.connect("qemu://" + dir.resolve("state").toUri().getPath());
        c.addBlockJobListener(jobEvents::add);
        c.addLifecycleListener(lifecycleEvents::add);
        return c;
    }

    /** vda: a qcow2 overlay (with its own write at 64 KiB) over a raw template of {@code mib} MiB of data. */
    private Domain defineChain(String name, int mib, String driverAttributes) throws Exception {
        Path base = dir.resolve(name + "-base.raw");
        Files.write(base, new byte[mib << 20]);
        QemuTools.write(base, "raw", 0x10, 0, (long) mib << 20);
        Path top = top(name);
        QemuTools.createOverlay(top, base.getFileName().toString(), "raw");
        QemuTools.write(top, "qcow2", 0xEE, 65536, 65536);
        QemuTools.flatten(top, dir.resolve(name + "-expected.raw"));
        return connection.define("<domain><name>" + name + "</name><devices><disk type='file' device='disk'>"
                + "<driver name='qemu' type='qcow2'" + driverAttributes + "/><source file='" + top + "'/>"
                + "<target dev='vda'/></disk></devices></domain>");
    }

    private Path top(String name) {
        return dir.resolve(name + "-top.qcow2");
    }

    private Path base(String name) {
        return dir.resolve(name + "-base.raw");
    }

    private long pid(String name) throws IOException {
        return Long.parseLong(Files.readString(dir.resolve("state/run/" + name + ".pid"), StandardCharsets.US_ASCII)
                .trim());
    }

    private static <E> E next(BlockingQueue<E> events) throws InterruptedException {
        E event = events.poll(30, TimeUnit.SECONDS);
        if (event == null) {
            throw new AssertionError("no event within 30 s");
        }
        return event;
    }

    private static void awaitCondition(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within 30 s: " + what);
            }
            Thread.sleep(20);
        }
    }

    @Test
    void aCompletedPullClosesTheTemplateInQemu() throws Exception {
        Domain domain = defineChain("fd", 4, "");
        domain.start();
        long pid = pid("fd");
        assertTrue(QemuTools.openFiles(pid).contains(base("fd")), () -> "template not open before the pull");
        domain.blockPull("vda", 0, Set.of());
        assertEquals(BlockJobStatus.COMPLETED, next(jobEvents).status());
        List<Path> open = QemuTools.openFiles(pid);
        assertFalse(open.contains(base("fd")), () -> "QEMU still holds the template: " + open);
        assertTrue(open.contains(top("fd")), () -> "QEMU lost the top: " + open);
        // no lock either: another writer may open the template while the domain runs
        QemuTools.write(base("fd"), "raw", 0x77, 0, 4096);
        assertNull(QemuTools.backingName(top("fd")));
        domain.shutdown();
        QemuTools.assertSameContent(top("fd"), dir.resolve("fd-expected.raw"));
    }

    @Test
    void aCopyOnReadDiskCopiesWhatAnNbdClientReads() throws Exception {
        Domain domain = defineChain("cor", 2, " copy_on_read='on'");
        domain.start();
        String uri = domain.disks().getFirst().nbdUri().orElseThrow();
        assertTrue(domain.disks().getFirst().copyOnRead());
        QemuTools.ok("qemu-io", "-f", "raw", "-c", "read -P 0x10 1048576 65536", uri);
        String map = QemuTools.ok(
                "qemu-img", "map", "-U", "--output=json", top("cor").toString());
        assertTrue(
                map.contains("\"start\": 1048576, \"length\": 65536, \"depth\": 0"),
                () -> "the read range was not copied into the top: " + map);
        domain.shutdown();
    }

    @Test
    void aKilledQemuShutsTheDomainOffAndFailsItsPull() throws Exception {
        Domain domain = defineChain("crash", 8, "");
        domain.start();
        assertEquals(LifecycleEvent.Kind.DEFINED, next(lifecycleEvents).kind());
        assertEquals(LifecycleEvent.Kind.STARTED, next(lifecycleEvents).kind());
        domain.blockPull("vda", 256 * 1024, Set.of(PullFlag.BANDWIDTH_BYTES));
        ProcessHandle.of(pid("crash")).orElseThrow().destroyForcibly();
        BlockJobEvent failed = next(jobEvents);
        assertEquals(BlockJobStatus.FAILED, failed.status(), failed::toString);
        assertTrue(failed.error().orElseThrow().contains("QEMU"), failed::toString);
        assertEquals(new LifecycleEvent("crash", LifecycleEvent.Kind.CRASHED), next(lifecycleEvents));
        assertEquals(DomainState.SHUTOFF, domain.info().state());
        assertEquals(Optional.empty(), domain.disks().getFirst().nbdUri());
        assertEquals("crash-base.raw", QemuTools.backingName(top("crash")));
        // the driver goes on: the domain starts again
        domain.start();
        assertEquals(DomainState.RUNNING, domain.info().state());
        domain.shutdown();
    }

    @Test
    void aMissingQemuBinaryFailsInOneLineNamingIt() throws Exception {
        connection.close();
        System.setProperty("siphon.qemu.storage-daemon", "/nonexistent/qemu-storage-daemon");
        try {
            connection = connect();
            Domain domain = defineChain("nobin", 1, "");
            SiphonException e = assertThrows(SiphonException.class, domain::start);
            assertEquals(ErrorCode.OPERATION_FAILED, e.code());
            assertTrue(e.getMessage().contains("/nonexistent/qemu-storage-daemon not found"), e.getMessage());
            assertFalse(e.getMessage().contains("\n"), e.getMessage());
            assertEquals(DomainState.SHUTOFF, domain.info().state());
        } finally {
            System.clearProperty("siphon.qemu.storage-daemon");
        }
    }

    @Test
    void anImageQemuCannotOpenLeavesTheDomainShutOffWithQemusReason() throws Exception {
        Domain first = defineChain("locked", 1, "");
        first.start();
        // the same image under another name: only QEMU's image locking can see they are one file
        Path alias = Files.createSymbolicLink(dir.resolve("alias.qcow2"), top("locked"));
        Domain second = connection.define("<domain><name>alias</name><devices><disk><driver type='qcow2'/>"
                + "<source file='" + alias + "'/><target dev='vda'/></disk></devices></domain>");
        SiphonException e = assertThrows(SiphonException.class, second::start);
        assertEquals(ErrorCode.OPERATION_FAILED, e.code());
        assertTrue(e.getMessage().contains("cannot start domain 'alias': disk vda:"), e.getMessage());
        assertTrue(e.getMessage().contains("lock"), e.getMessage());
        assertEquals(DomainState.SHUTOFF, second.info().state());
        assertFalse(Files.exists(dir.resolve("state/run/alias.pid")), "the failed start left its process behind");
        first.shutdown();
        second.start();
        second.shutdown();
    }

    @Test
    void aNewConnectionTakesOverRunningQemuAndFinishesAPullThatEndedMeanwhile() throws Exception {
        Domain domain = defineChain("again", 2, "");
        domain.start();
        long pid = pid("again");
        domain.blockPull("vda", 1, Set.of()); // 1 MiB/s: about 2 s, ending while no connection is open
        connection.close();
        assertTrue(ProcessHandle.of(pid).orElseThrow().isAlive(), "closing the last connection stopped QEMU");
        awaitCondition("the pull has dropped the backing link", () -> {
            try {
                return QemuTools.backingName(top("again")) == null;
            } catch (IOException | InterruptedException e) {
                throw new AssertionError(e);
            }
        });
        connection = connect();
        domain = connection.lookup("again");
        assertEquals(DomainState.RUNNING, domain.info().state());
        assertEquals(Optional.empty(), domain.blockJobInfo("vda"));
        List<Path> open = QemuTools.openFiles(pid);
        assertFalse(open.contains(base("again")), () -> "QEMU still holds the template: " + open);
        assertTrue(domain.disks().getFirst().nbdUri().isPresent());
        domain.shutdown();
        assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false));
        QemuTools.assertSameContent(top("again"), dir.resolve("again-expected.raw"));
    }

    @Test
    void aRunningPullIsFoundAgainByANewConnection() throws Exception {
        Domain domain = defineChain("resume", 4, "");
        domain.start();
        domain.blockPull("vda", 1, Set.of());
        domain.blockJobPause("vda");
        connection.close();
        connection = connect();
        domain = connection.lookup("resume");
        var info = domain.blockJobInfo("vda").orElseThrow();
        assertEquals(io.siphon.api.BlockJobState.PAUSED, info.state());
        assertEquals(4 * MIB, info.endBytes());
        assertEquals(MIB, info.bandwidthBytesPerSecond());
        domain.blockJobSetSpeed("vda", 0, Set.of());
        domain.blockJobResume("vda");
        assertEquals(BlockJobStatus.COMPLETED, next(jobEvents).status());
        assertFalse(QemuTools.openFiles(pid("resume")).contains(base("resume")));
        domain.shutdown();
        assertNull(QemuTools.backingName(top("resume")));
    }
}
