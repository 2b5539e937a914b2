package io.siphon.qemu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.api.BlockJobEvent;
import io.siphon.api.BlockJobInfo;
import io.siphon.api.BlockJobState;
import io.siphon.api.BlockJobStatus;
import io.siphon.api.Connection;
import io.siphon.api.Domain;
import io.siphon.api.DomainState;
import io.siphon.api.Siphon;
import io.siphon.api.SpeedFlag;
import io.siphon.testing.QemuTools;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A daemon hosting the qemu driver restarts (killed, or stopped cleanly) under a running QEMU pull:
 * QEMU goes on, the new daemon takes the process over and reconciles the pull with
 * query-block-jobs, whether it still runs or ended meanwhile.
 */
@Tag("interop")
class QemuDaemonRestartTest {
    @TempDir
    Path dir;

    private HostedDaemon daemon;

    @AfterEach
    void stop() throws Exception {
        if (daemon != null) {
            try (Connection connection = Siphon.connect(daemon.uri())) {
                for (var domain : connection.list()) {
                    if (domain.state() == DomainState.RUNNING) {
                        connection.lookup(domain.name()).destroy();
                    }
                }
            }
            daemon.close();
        }
    }

    private Path state() {
        return dir.resolve("state");
    }

    /** Domain d, vda a qcow2 overlay of a raw template of {@code mib} MiB of data. */
    private void defineAndStart(Connection connection, int mib) throws Exception {
        Path base = dir.resolve("base.raw");
        Files.write(base, new byte[mib << 20]);
        QemuTools.write(base, "raw", 0x42, 0, (long) mib << 20);
        QemuTools.createOverlay(dir.resolve("top.qcow2"), "base.raw", "raw");
        QemuTools.flatten(dir.resolve("top.qcow2"), dir.resolve("expected.raw"));
        connection
                .define("<domain><name>d</name><devices><disk><driver type='qcow2'/><source file='"
                        + dir.resolve("top.qcow2") + "'/><target dev='vda'/></disk></devices></domain>")
                .start();
    }

    private long qemuPid() throws IOException {
        return Long.parseLong(Files.readString(state().resolve("run/d.pid"), StandardCharsets.US_ASCII)
                .trim());
    }

    private boolean holdsTemplate(long pid) throws IOException {
        return QemuTools.openFiles(pid).contains(dir.resolve("base.raw"));
    }

    @Test
    void aKilledDaemonsRunningPullIsTakenOverAndCompletes() throws Exception {
        daemon = HostedDaemon.start(state());
        try (Connection connection = Siphon.connect(daemon.uri())) {
            defineAndStart(connection, 4);
            connection.lookup("d").blockPull("vda", 64 * 1024, Set.of(io.siphon.api.PullFlag.BANDWIDTH_BYTES));
        }
        long pid = qemuPid();
        daemon.kill();
        assertTrue(ProcessHandle.of(pid).orElseThrow().isAlive(), "QEMU died with the daemon");
        daemon = HostedDaemon.start(state());
        try (Connection connection = Siphon.connect(daemon.uri())) {
            BlockingQueue<BlockJobEvent> events = new LinkedBlockingQueue<>();
            connection.addBlockJobListener(events::add);
            Domain domain = connection.lookup("d");
            assertEquals(DomainState.RUNNING, domain.info().state());
            BlockJobInfo info = domain.blockJobInfo("vda").orElseThrow();
            assertEquals(BlockJobState.RUNNING, info.state());
            assertEquals(64 * 1024, info.bandwidthBytesPerSecond());
            assertEquals(4 << 20, info.endBytes());
            domain.blockJobSetSpeed("vda", 0, Set.of(SpeedFlag.BANDWIDTH_BYTES));
            BlockJobEvent end = events.poll(30, TimeUnit.SECONDS);
            assertEquals(
                    new BlockJobEvent(
                            "d", "vda", io.siphon.api.BlockJobType.PULL, BlockJobStatus.COMPLETED, Optional.empty()),
                    end);
            assertFalse(holdsTemplate(pid), "QEMU still holds the template");
            assertEquals(pid, qemuPid());
            domain.shutdown();
        }
        assertNull(QemuTools.backingName(dir.resolve("top.qcow2")));
        QemuTools.assertSameContent(dir.resolve("top.qcow2"), dir.resolve("expected.raw"));
    }

    @Test
    void aPullThatEndedWhileTheDaemonWasStoppedIsFinishedWhenItStartsAgain() throws Exception {
        daemon = HostedDaemon.start(state());
        try (Connection connection = Siphon.connect(daemon.uri())) {
            defineAndStart(connection, 2);
            connection.lookup("d").blockPull("vda", 1, Set.of()); // 1 MiB/s: about 2 s
        }
        long pid = qemuPid();
        daemon.close();
        daemon = null;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (QemuTools.backingName(dir.resolve("top.qcow2")) != null) {
            assertTrue(System.nanoTime() < deadline, "the pull did not end within 30 s");
            Thread.sleep(50); // polls the image header for QEMU's change
        }
        assertTrue(holdsTemplate(pid), "the dropped nodes went before anyone dismissed the job");
        daemon = HostedDaemon.start(state());
        try (Connection connection = Siphon.connect(daemon.uri())) {
            Domain domain = connection.lookup("d");
            assertEquals(DomainState.RUNNING, domain.info().state());
            assertEquals(Optional.empty(), domain.blockJobInfo("vda"));
            assertFalse(holdsTemplate(pid), "the new daemon left the template open in QEMU");
            assertTrue(daemon.log().contains("block pull ended COMPLETED"), daemon::log);
            domain.shutdown();
        }
        QemuTools.assertSameContent(dir.resolve("top.qcow2"), dir.resolve("expected.raw"));
    }
}
