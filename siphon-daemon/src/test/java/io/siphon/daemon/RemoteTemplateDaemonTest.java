package io.siphon.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.api.BlockJobEvent;
import io.siphon.api.BlockJobInfo;
import io.siphon.api.BlockJobState;
import io.siphon.api.BlockJobStatus;
import io.siphon.api.Connection;
import io.siphon.api.Domain;
import io.siphon.api.DomainState;
import io.siphon.api.PullFlag;
import io.siphon.api.Siphon;
import io.siphon.api.SiphonException;
import io.siphon.format.RemoteBackingPolicy;
import io.siphon.testing.QemuTools;
import io.siphon.testing.RangeHttpServer;
import io.siphon.testing.RemoteClones;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A daemon whose domains' disks are clones of remote templates: one on an HTTP server, one that
 * qemu-nbd serves. Refused unless the operator allows it; allowed, a guest reads the disks over the
 * daemon's NBD exports with copy-on-read and pulls make them standalone.
 */
class RemoteTemplateDaemonTest {
    private static final int MIB = 1 << 20;
    private static final int SIZE = 8 * MIB;
    /** A daemon that follows remote backings and calls a remote unreachable after one second of retries. */
    private static final List<String> OUTAGE_OPTIONS = List.of("--allow-remote-backing", "--remote-timeout", "1");

    @TempDir
    Path dir;

    private RangeHttpServer http;
    private Process qemuNbd;
    private Path httpTemplate;
    private Path nbdTemplate;
    private String httpUrl;
    private String nbdUrl;

    @BeforeEach
    void serveTemplates() throws Exception {
        QemuTools.require("qemu-nbd", "qemu-io", "qemu-img");
        httpTemplate = Files.write(dir.resolve("http.raw"), RemoteClones.randomTemplate("http", SIZE));
        nbdTemplate = Files.write(dir.resolve("nbd.raw"), RemoteClones.randomTemplate("nbd", SIZE));
        http = RangeHttpServer.start();
        http.serve("http.raw", httpTemplate);
        httpUrl = http.url("http.raw").toString();
        Path socket = dir.resolve("tmpl.sock");
        qemuNbd = QemuTools.serveNbd(nbdTemplate, "raw", socket, "tmpl", dir.resolve("qemu-nbd.log"));
        nbdUrl = "nbd+unix:///tmpl?socket=" + socket;
    }

    @AfterEach
    void stopTemplates() throws InterruptedException {
        if (http != null) {
            http.close();
        }
        if (qemuNbd != null) {
            qemuNbd.destroy();
            qemuNbd.waitFor(10, TimeUnit.SECONDS);
        }
    }

    /** The qcow2 clones vda (of the HTTP template) and vdb (of the NBD one), made with a cache of their own. */
    private List<Path> clones() throws Exception {
        RemoteBackingPolicy policy = RemoteClones.policy(dir.resolve("maker-cache"), 8, Duration.ofSeconds(30));
        return List.of(
                RemoteClones.create(dir.resolve("vda.qcow2"), httpUrl, Optional.of("raw"), policy),
                RemoteClones.create(dir.resolve("vdb.qcow2"), nbdUrl, Optional.of("raw"), policy));
    }

    private static String xml(List<Path> disks) {
        StringBuilder xml = new StringBuilder("<domain type='kvm'><name>remote</name><devices>");
        for (int i = 0; i < disks.size(); i++) {
            xml.append("<disk type='file' device='disk'><driver name='qemu' type='qcow2' copy_on_read='on'/>")
                    .append("<source file='")
                    .append(disks.get(i))
                    .append("'/><target dev='vd")
                    .append((char) ('a' + i))
                    .append("' bus='virtio'/></disk>");
        }
        return xml.append("</devices></domain>").toString();
    }

    @Test
    void aDiskWithARemoteBackingIsRefusedUnlessTheOperatorAllowsIt() throws Exception {
        List<Path> disks = clones();
        long servedBefore = http.bytesServed();
        try (Daemon daemon = Daemon.start(dir.resolve("state"), Optional.empty(), Optional.empty());
                Connection connection = Siphon.connect("siphon+unix://" + daemon.socket())) {
            Domain domain = connection.define(xml(disks));
            SiphonException refused = assertThrows(SiphonException.class, domain::start);
            String message = refused.getMessage();
            assertTrue(message.contains("disk vda"), message);
            assertTrue(message.contains(httpUrl), message);
            assertTrue(message.contains("--allow-remote-backing"), message);
            assertEquals(DomainState.SHUTOFF, domain.info().state());
        }
        assertEquals(servedBefore, http.bytesServed(), "a refused disk fetches nothing");
    }

    @Test
    void aGuestReadsRemoteClonesWithCopyOnReadAndPullsMakeThemStandalone() throws Exception {
        List<Path> disks = clones();
        long servedBefore = http.bytesServed();
        Path state = dir.resolve("state");
        try (DaemonProcess daemon =
                        DaemonProcess.start(state, List.of("--allow-remote-backing", "--remote-cache-size", "64"));
                Connection connection = Siphon.connect("siphon+unix://" + daemon.socket())) {
            BlockingQueue<BlockJobEvent> events = new LinkedBlockingQueue<>();
            connection.addBlockJobListener(events::add);
            Domain domain = connection.define(xml(disks));
            domain.start();
            for (int i = 0; i < disks.size(); i++) {
                String uri = domain.disks().get(i).nbdUri().orElseThrow();
                Path template = i == 0 ? httpTemplate : nbdTemplate;
                // the guest reads 2 MiB at 3 MiB; the flush makes the copies' metadata durable for qemu-img
                QemuTools.ok("qemu-io", "-f", "raw", "-c", "read 3M 2M", "-c", "flush", "-c", "read -v 3M 16", uri);
                assertCopiedByTheGuest(disks.get(i));
                assertEquals(dump(template.toString(), "-r"), dump(uri), "the export reads the template past the copy");
            }
            domain.blockPull("vda", 0, Set.of());
            domain.blockPull("vdb", 0, Set.of());
            Set<String> completed = new HashSet<>();
            for (int i = 0; i < 2; i++) {
                BlockJobEvent event = TestDomains.awaitEvent(events);
                assertEquals(BlockJobStatus.COMPLETED, event.status(), event::toString);
                completed.add(event.disk());
            }
            assertEquals(Set.of("vda", "vdb"), completed);
            domain.shutdown();
            String log = daemon.log();
            assertTrue(log.contains("is remote; access profiles are kept for local templates only"), log);
            assertTrue(!log.contains("not recording an access profile"), log);
            assertTrue(chunkFiles(state.resolve("cache")) > 0, "the daemon's cache is under its state directory");
        }
        // the open's one-byte probe (size and ETag), then each chunk once: the guest's and the pull's reads share them
        assertEquals(SIZE + 1, http.bytesServed() - servedBefore, "each chunk of the HTTP template was fetched once");
        for (int i = 0; i < disks.size(); i++) {
            assertNull(QemuTools.backingName(disks.get(i)));
            QemuTools.assertCheckClean(disks.get(i));
            QemuTools.assertSameContent(disks.get(i), i == 0 ? httpTemplate : nbdTemplate);
        }
    }

    /** Defines the domain on {@code clone} and starts it (which opens the template), then stops the HTTP server. */
    private Domain startedThenCutOff(Connection connection, Path clone) {
        Domain domain = connection.define(xml(List.of(clone)));
        domain.start();
        http.stop();
        return domain;
    }

    @Test
    void aPullPausesThroughAnOutageAndItsRecordKeepsThePolicyAcrossARestart() throws Exception {
        Path clone = clones().getFirst();
        Path state = dir.resolve("state");
        try (DaemonProcess daemon = DaemonProcess.start(state, OUTAGE_OPTIONS);
                Connection connection = Siphon.connect("siphon+unix://" + daemon.socket())) {
            Domain domain = startedThenCutOff(connection, clone);
            domain.blockPull("vda", 0, Set.of());
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            Optional<BlockJobInfo> info = domain.blockJobInfo("vda");
            while (info.orElseThrow().pauseReason().isEmpty()) {
                assertTrue(System.nanoTime() < deadline, "the pull did not pause: " + info);
                Thread.sleep(50); // the daemon has no event for a pause; its info is what a user polls
                info = domain.blockJobInfo("vda");
            }
            assertEquals(BlockJobState.PAUSED, info.get().state());
            String reason = info.get().pauseReason().get();
            assertTrue(reason.contains(httpUrl) && reason.contains("unreachable"), reason);
            String record = Files.readString(state.resolve("jobs/remote.vda.job"));
            assertTrue(record.contains("on-outage=pause"), record);
        } // SIGTERM while paused: the record stays for the next start
        http.restart();
        try (DaemonProcess daemon = DaemonProcess.start(state, OUTAGE_OPTIONS);
                Connection connection = Siphon.connect("siphon+unix://" + daemon.socket())) {
            BlockingQueue<BlockJobEvent> events = new LinkedBlockingQueue<>();
            connection.addBlockJobListener(events::add);
            Domain domain = connection.lookup("remote");
            domain.start();
            assertEquals(
                    BlockJobStatus.COMPLETED, TestDomains.awaitEvent(events).status());
            domain.shutdown();
        }
        assertNull(QemuTools.backingName(clone));
        QemuTools.assertCheckClean(clone);
        QemuTools.assertSameContent(clone, httpTemplate);
    }

    @Test
    void aPullAskedToFailOnAnOutageFailsWithTheReasonAndLeavesTheClone() throws Exception {
        Path clone = clones().getFirst();
        Path state = dir.resolve("state");
        try (DaemonProcess daemon = DaemonProcess.start(state, OUTAGE_OPTIONS);
                Connection connection = Siphon.connect("siphon+unix://" + daemon.socket())) {
            Domain domain = startedThenCutOff(connection, clone);
            BlockingQueue<BlockJobEvent> events = new LinkedBlockingQueue<>();
            connection.addBlockJobListener(events::add);
            domain.blockPull("vda", 0, Set.of(PullFlag.FAIL_ON_OUTAGE));
            BlockJobEvent event = TestDomains.awaitEvent(events);
            assertEquals(BlockJobStatus.FAILED, event.status(), event::toString);
            String reason = event.error().orElseThrow();
            assertTrue(reason.contains(httpUrl) && reason.contains("unreachable"), reason);
            assertEquals(Optional.empty(), domain.blockJobInfo("vda"));
            assertFalse(Files.exists(state.resolve("jobs/remote.vda.job")), "a failed pull leaves no record");
            String log = daemon.log();
            assertTrue(log.contains("on-outage fail"), log);
            domain.shutdown();
        }
        // nothing was dropped: the clone still backs onto the template and, the server back, reads as it
        assertEquals(httpUrl, QemuTools.backingName(clone));
        http.restart();
        QemuTools.assertCheckClean(clone);
        QemuTools.assertSameContent(clone, httpTemplate);
    }

    /** What {@code qemu-io read -v} shows of 32 bytes at 6 MiB: the hex lines, without the timing line. */
    private static String dump(String image, String... options) throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of("qemu-io", "-f", "raw"));
        command.addAll(List.of(options));
        command.addAll(List.of("-c", "read -v 6M 32", image));
        return QemuTools.ok(command.toArray(String[]::new))
                .lines()
                .filter(line -> line.startsWith("006"))
                .toList()
                .toString();
    }

    /** The guest's read at 3 MiB was copied into the clone: qemu-img maps it at depth 0. */
    private static void assertCopiedByTheGuest(Path clone) throws Exception {
        List<QemuTools.MapEntry> map =
                QemuTools.map(QemuTools.ok("qemu-img", "map", "-U", "--output=json", clone.toString()));
        boolean copied = map.stream()
                .anyMatch(
                        e -> e.depth() == 0 && e.data() && e.start() <= 3L * MIB && e.start() + e.length() >= 5L * MIB);
        assertTrue(copied, () -> clone + " after the guest's read: " + map);
    }

    private static long chunkFiles(Path cache) throws Exception {
        try (Stream<Path> files = Files.walk(cache)) {
            return files.filter(f -> f.getFileName().toString().matches("\\d+")).count();
        }
    }
}
