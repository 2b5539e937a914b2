package io.siphon.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.api.BlockJobEvent;
import io.siphon.api.BlockJobStatus;
import io.siphon.api.Connection;
import io.siphon.api.Domain;
import io.siphon.api.PullFlag;
import io.siphon.api.Siphon;
import io.siphon.testing.QemuTools;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGKILLs of the daemon at random instants while a pull runs and a guest writes over NBD (into the
 * disk's first 2 MiB, as a guest's hot blocks), each write flushed before the next: after every kill qemu-img check finds no corruption, and at the
 * end, once the resumed pull has completed, every block holds its last acknowledged write (or one
 * tried after it and cut off by a kill) and every block no write was acknowledged for holds the
 * template's data or such a write. The pull's rate is set so that it is still running at the last
 * kill. Kills come from {@code siphon.reliability.kills} (default 3; {@code scripts/reliability}
 * runs 50).
 */
class KillLoopTest {
    private static final int MIB = 1 << 20;

    @TempDir
    Path dir;

    @Test
    void killedUnderAPullAndFlushedWritesTheDaemonLosesNothing() throws Exception {
        int kills = Integer.getInteger("siphon.reliability.kills", 3);
        long seed = System.nanoTime();
        System.out.println("kill loop: " + kills + " kills, seed " + seed);
        Random random = new Random(seed);
        Path template = dir.resolve("template.raw");
        // each restart's pull copies about a chunk before its rate limit bites: 2 MiB per kill
        // keeps the pull running to the last kill
        int size = Math.max(16, 2 * kills) * MIB;
        byte[] templateBytes = new byte[size];
        random.nextBytes(templateBytes);
        Files.write(template, templateBytes);
        Path top = dir.resolve("vm.qcow2");
        QemuTools.createOverlay(top, "template.raw", "raw");
        Path state = dir.resolve("state");
        // the guest keeps to the first 2 MiB, so that the pull has the rest to copy at every kill
        GuestWrites writes = new GuestWrites(2 * MIB, random);
        // a round lasts a few seconds (a daemon start, then 0.2 to 1.5 s): 8 s of pull per kill
        // leaves most of the disk to copy at the last kill
        long bytesPerSecond = size / (8L * kills);
        long leaks = 0;
        int underPull = 0;
        for (int k = 0; k < kills; k++) {
            DaemonProcess daemon = DaemonProcess.start(state);
            try (Connection connection = Siphon.connect("siphon+unix://" + daemon.socket())) {
                Domain domain = k == 0 ? connection.define(xml(top)) : connection.lookup("vm");
                domain.start(); // a recorded pull resumes here
                if (k == 0) {
                    domain.blockPull("vda", bytesPerSecond, Set.of(PullFlag.BANDWIDTH_BYTES));
                }
                GuestWrites.Guest guest =
                        writes.start(domain.disks().getFirst().nbdUri().orElseThrow());
                Thread.sleep(200 + random.nextInt(1300)); // the random instant of the kill
                underPull += domain.blockJobInfo("vda").isPresent() ? 1 : 0;
                daemon.kill();
                guest.stop();
            } catch (Exception connectionLostAtTheKill) {
                daemon.kill();
            }
            QemuTools.Result check = QemuTools.run("qemu-img", "check", "--output=json", top.toString());
            assertTrue(check.exitCode() == 0 || check.exitCode() == 3, "after kill " + (k + 1) + ": " + check);
            leaks += Math.max(0, QemuTools.jsonLong(check.stdout(), "leaks"));
        }

        try (DaemonProcess daemon = DaemonProcess.start(state);
                Connection connection = Siphon.connect("siphon+unix://" + daemon.socket())) {
            BlockingQueue<BlockJobEvent> events = new LinkedBlockingQueue<>();
            connection.addBlockJobListener(events::add);
            Domain domain = connection.lookup("vm");
            domain.start();
            if (domain.blockJobInfo("vda").isPresent()) {
                domain.blockJobSetSpeed("vda", 0, Set.of());
                BlockJobEvent event = events.poll(120, TimeUnit.SECONDS);
                assertTrue(event != null && event.status() == BlockJobStatus.COMPLETED, String.valueOf(event));
            }
            domain.shutdown();
        }
        assertEquals(null, QemuTools.backingName(top), "the resumed pull completed");
        Path flat = dir.resolve("flat.raw");
        QemuTools.flatten(top, flat);
        assertEquals(List.of(), writes.lost(Files.readAllBytes(flat), templateBytes), "blocks whose write was lost");
        System.out.printf(
                "kill loop: %d kills (%d under a running pull), 0 corruptions, 0 lost of %d acknowledged writes, %d"
                        + " leaked clusters%n",
                kills, underPull, writes.acknowledgedCount(), leaks);
    }

    private static String xml(Path top) {
        return "<domain><name>vm</name><devices><disk type='file'><driver type='qcow2'/><source file='" + top
                + "'/><target dev='vda'/></disk></devices></domain>";
    }
}
