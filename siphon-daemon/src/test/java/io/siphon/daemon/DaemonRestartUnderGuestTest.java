package io.siphon.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.api.BlockJobEvent;
import io.siphon.api.Connection;
import io.siphon.api.Domain;
import io.siphon.api.DomainState;
import io.siphon.api.LifecycleEvent;
import io.siphon.api.Siphon;
import io.siphon.api.contract.GuestPullScenario;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The daemon serving a guest's disk is SIGKILLed mid-pull while the guest reads and writes; a new
 * daemon on the same state directory takes the VM over: the guest's NBD clients reconnect, no
 * request fails or is lost, and the recorded pull resumes and completes.
 */
@Tag("interop")
class DaemonRestartUnderGuestTest {
    @TempDir
    Path dir;

    /** A failed test must not leave the VM, which outlives its daemon, running. */
    @AfterEach
    void killTheMachine() throws IOException {
        Path pidFile = dir.resolve("state/run/guest.pid");
        if (Files.exists(pidFile)) {
            // only the VM itself: a pid left in a stale file may have been reused
            ProcessHandle.of(Long.parseLong(Files.readString(pidFile).trim()))
                    .filter(p -> p.info().commandLine().orElse("").contains(dir.toString()))
                    .ifPresent(ProcessHandle::destroyForcibly);
        }
    }

    @Test
    void aGuestRidesOutADaemonKilledMidPull() throws Exception {
        GuestPullScenario scenario = GuestPullScenario.create(dir);
        Path state = dir.resolve("state");
        try (DaemonProcess daemon = DaemonProcess.start(state);
                Connection connection = Siphon.connect("siphon+unix://" + daemon.socket())) {
            Domain domain = connection.define(scenario.xml("guest"));
            domain.start();
            domain.blockPull("vda", 1, Set.of()); // 32 s for the 32 MiB: still running at the kill
            scenario.awaitConsole(
                    line -> line.startsWith("guest: sum 1 "), "with the second checksum", GuestPullScenario.BOOT);
            assertTrue(domain.blockJobInfo("vda").isPresent(), "the pull runs at the kill");
            daemon.kill();
        }
        long sumsAtKill = scenario.sums();
        try (DaemonProcess daemon = DaemonProcess.start(state);
                Connection connection = Siphon.connect("siphon+unix://" + daemon.socket())) {
            BlockingQueue<BlockJobEvent> jobs = new LinkedBlockingQueue<>();
            BlockingQueue<LifecycleEvent> lifecycle = new LinkedBlockingQueue<>();
            connection.addBlockJobListener(jobs::add);
            connection.addLifecycleListener(lifecycle::add);
            Domain domain = connection.lookup("guest");
            assertEquals(DomainState.RUNNING, domain.info().state(), "the new daemon took the running VM over");
            // the guest goes on reading and writing through the new daemon
            scenario.awaitConsole(
                    line -> line.startsWith("guest: sum " + (sumsAtKill + 1) + " "),
                    "after the restart",
                    GuestPullScenario.BOOT);
            domain.blockJobSetSpeed("vda", 16, Set.of());
            GuestPullScenario.awaitPullCompleted(jobs);
            scenario.stopGuestLoop(domain);
            GuestPullScenario.awaitPowerOff(lifecycle, domain);
        }
        byte[] content = scenario.assertGuestSawItsWrites();
        scenario.assertCloneHolds(content);
    }
}
