package io.siphon.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.api.BlockJobEvent;
import io.siphon.api.BlockJobInfo;
import io.siphon.api.BlockJobStatus;
import io.siphon.api.Connection;
import io.siphon.api.Domain;
import io.siphon.api.PullFlag;
import io.siphon.api.PullPhase;
import io.siphon.api.RebaseFlag;
import io.siphon.api.Siphon;
import io.siphon.api.SpeedFlag;
import io.siphon.testing.QemuTools;
import java.nio.charset.StandardCharsets;
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

/** Pulls with --pace guest and --order profile through a daemon child JVM and the remote API. */
class SmartPullEndToEndTest {
    private static final int MIB = 1 << 20;
    private static final long CLUSTER = 65536;

    @TempDir
    Path dir;

    private Path template;

    /** A 16 MiB raw template full of data (one pattern per MiB), made once per test. */
    private Path template() throws Exception {
        if (template == null) {
            template = dir.resolve("template.raw");
            Files.write(template, new byte[16 * MIB]);
            for (int i = 0; i < 16; i++) {
                QemuTools.write(template, "raw", 0x40 + i, (long) i * MIB, MIB);
            }
        }
        return template;
    }

    private Path clone(String name) throws Exception {
        Path top = dir.resolve(name + ".qcow2");
        QemuTools.createOverlay(top, template().getFileName().toString(), "raw");
        return top;
    }

    private static String xml(String name, Path top) {
        return "<domain type='kvm'><name>" + name + "</name><devices><disk type='file' device='disk'>"
                + "<driver name='qemu' type='qcow2'/><source file='" + top + "'/>"
                + "<target dev='vda' bus='virtio'/></disk></devices></domain>";
    }

    private void assertPulledAndClean(Path top) throws Exception {
        assertNull(QemuTools.backingName(top));
        QemuTools.assertSameContent(top, template());
        QemuTools.assertCheckClean(top);
    }

    /** Reads over NBD as a booting guest would: the clusters at 12 MiB (twice) and 5 MiB. */
    private static void boot(String nbdUri) throws Exception {
        QemuTools.ok(
                "qemu-io",
                "-f",
                "raw",
                "-c",
                "read -P 0x4c " + 12 * MIB + " 65536",
                "-c",
                "read -P 0x4c " + 12 * MIB + " 4096",
                "-c",
                "read -P 0x45 " + 5 * MIB + " 65536",
                nbdUri);
    }

    private static List<Path> profileFiles(Path state) throws Exception {
        try (Stream<Path> files = Files.list(state.resolve("profiles"))) {
            return files.toList();
        }
    }

    /**
     * Starts a first clone of the template, boots it and shuts it down, which ends the recording;
     * returns the template's one profile file.
     */
    private Path recordFirstBoot(Connection connection, Path state) throws Exception {
        Domain one = connection.define(xml("first", clone("first")));
        one.start();
        boot(one.disks().getFirst().nbdUri().orElseThrow());
        one.shutdown();
        List<Path> profiles = profileFiles(state);
        assertEquals(1, profiles.size(), "one profile, of the template: " + profiles);
        return profiles.getFirst();
    }

    /** Polls the job until its phase is {@code wanted}; fails after 60 s. */
    private static BlockJobInfo awaitPhase(Domain domain, PullPhase wanted) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            Optional<BlockJobInfo> info = domain.blockJobInfo("vda");
            assertTrue(info.isPresent(), "the job ended before its phase was " + wanted);
            assertTrue(info.get().phase().isPresent(), "the embedded driver tells the phase");
            if (info.get().phase().get() == wanted) {
                return info.get();
            }
            Thread.sleep(20);
        }
        throw new AssertionError("the pull was not in phase " + wanted + " within 60 s");
    }

    @Test
    void aSecondBootsPullCopiesTheClustersTheFirstBootReadBeforeTheRest() throws Exception {
        Path state = dir.resolve("state");
        Path second = clone("second");
        try (DaemonProcess daemon = DaemonProcess.start(state);
                Connection connection = Siphon.connect("siphon+unix://" + daemon.socket())) {
            BlockingQueue<BlockJobEvent> events = new LinkedBlockingQueue<>();
            connection.addBlockJobListener(events::add);
            Path profile = recordFirstBoot(connection, state);
            String text = Files.readString(profile, StandardCharsets.UTF_8);
            assertTrue(text.contains("\n" + 12 * MIB + " 2\n" + 5 * MIB + " 1\n"), text);

            Domain two = connection.define(xml("second", second));
            two.start();
            // 64 KiB/s: the offset walk copies one cluster a second after the two hot ones
            two.blockPull("vda", 65536, Set.of(PullFlag.BANDWIDTH_BYTES, PullFlag.ORDER_PROFILE));
            awaitPhase(two, PullPhase.OFFSET);
            two.blockJobAbort("vda", Set.of());
            assertEquals(BlockJobStatus.CANCELED, TestDomains.awaitEvent(events).status());
            two.shutdown(); // the top's metadata reaches its file, for qemu-img
            List<QemuTools.MapEntry> map =
                    QemuTools.map(QemuTools.ok("qemu-img", "map", "--output=json", second.toString()));
            assertTrue(allocatedInTop(map, 12L * MIB) && allocatedInTop(map, 5L * MIB), map::toString);
            assertTrue(!allocatedInTop(map, 10L * MIB), "the offset walk is far from 10 MiB: " + map);

            two.start();
            two.blockPull("vda", 0, Set.of(PullFlag.ORDER_PROFILE));
            assertEquals(
                    BlockJobStatus.COMPLETED, TestDomains.awaitEvent(events).status());
            two.shutdown();
        }
        assertPulledAndClean(second);
    }

    @Test
    void aDaemonWithAProfileWindowOfZeroRecordsNoProfile() throws Exception {
        Path state = dir.resolve("state");
        try (DaemonProcess daemon = DaemonProcess.start(state, List.of("--profile-window", "0"));
                Connection connection = Siphon.connect("siphon+unix://" + daemon.socket())) {
            Domain one = connection.define(xml("first", clone("first")));
            one.start();
            boot(one.disks().getFirst().nbdUri().orElseThrow());
            one.shutdown();
            assertEquals(List.of(), profileFiles(state));
        }
    }

    @Test
    void aPullInProfileOrderWithADamagedProfileRunsInOffsetOrder() throws Exception {
        Path state = dir.resolve("state");
        Path second = clone("second");
        try (DaemonProcess daemon = DaemonProcess.start(state);
                Connection connection = Siphon.connect("siphon+unix://" + daemon.socket())) {
            BlockingQueue<BlockJobEvent> events = new LinkedBlockingQueue<>();
            connection.addBlockJobListener(events::add);
            Files.writeString(recordFirstBoot(connection, state), "siphon-access-profile 1\ncrc32 zz\n\n1 1\n");

            Domain two = connection.define(xml("second", second));
            two.start();
            two.blockPull("vda", 65536, Set.of(PullFlag.BANDWIDTH_BYTES, PullFlag.ORDER_PROFILE));
            BlockJobInfo info = two.blockJobInfo("vda").orElseThrow();
            assertEquals(Optional.of(PullPhase.OFFSET), info.phase(), "no usable profile: offset order at once");
            two.blockJobSetSpeed("vda", 0, Set.of(SpeedFlag.BANDWIDTH_BYTES));
            assertEquals(
                    BlockJobStatus.COMPLETED, TestDomains.awaitEvent(events).status());
            two.shutdown();
        }
        assertPulledAndClean(second);
    }

    @Test
    void aGuestPacedPullCompletesWhileTheGuestReadsAndWrites() throws Exception {
        Path state = dir.resolve("state");
        Path top = clone("paced");
        try (DaemonProcess daemon = DaemonProcess.start(state);
                Connection connection = Siphon.connect("siphon+unix://" + daemon.socket())) {
            BlockingQueue<BlockJobEvent> events = new LinkedBlockingQueue<>();
            connection.addBlockJobListener(events::add);
            Domain domain = connection.define(xml("paced", top));
            domain.start();
            String uri = domain.disks().getFirst().nbdUri().orElseThrow();
            domain.blockRebase("vda", Optional.empty(), 0, Set.of(RebaseFlag.PACE_GUEST), 2.0);
            QemuTools.ok(
                    "qemu-io",
                    "-f",
                    "raw",
                    "-c",
                    "write -P 0x4f " + 15 * MIB + " 65536",
                    "-c",
                    "read -P 0x43 " + 3 * MIB + " 1048576",
                    uri);
            assertEquals(
                    BlockJobStatus.COMPLETED, TestDomains.awaitEvent(events).status());
            String log = daemon.log();
            assertTrue(log.contains("pace guest (p99 within 2.0x idle)"), log);
            domain.shutdown();
        }
        // the guest wrote the template's own pattern, so the clone reads as the template
        assertPulledAndClean(top);
    }

    private static boolean allocatedInTop(List<QemuTools.MapEntry> map, long offset) {
        return map.stream()
                .anyMatch(e -> e.start() <= offset && offset < e.start() + e.length() && e.depth() == 0 && e.data());
    }
}
