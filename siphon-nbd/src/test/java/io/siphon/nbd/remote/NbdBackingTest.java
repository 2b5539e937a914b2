package io.siphon.nbd.remote;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.block.Allocation;
import io.siphon.block.Extent;
import io.siphon.blockjob.Disk;
import io.siphon.blockjob.StreamJob;
import io.siphon.blockjob.StreamOptions;
import io.siphon.cache.ChunkCache;
import io.siphon.format.ImageChain;
import io.siphon.format.OpenOptions;
import io.siphon.format.RemoteBackingPolicy;
import io.siphon.format.remote.RemoteObjectException;
import io.siphon.job.Job;
import io.siphon.testing.QemuTools;
import io.siphon.testing.RemoteClones;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Clones whose templates qemu-nbd or nbdkit serve, read through the chunk cache; QEMU reads them too. */
class NbdBackingTest {
    private static final int SIZE = 8 << 20;

    @TempDir
    Path dir;

    private Process peer;
    private byte[] template;
    private Path templateFile;
    private ChunkCache cache;
    private RemoteBackingPolicy policy;

    @BeforeEach
    void template() throws IOException {
        template = RemoteClones.randomTemplate("NbdBackingTest", SIZE);
        templateFile = Files.write(dir.resolve("t.raw"), template);
        cache = ChunkCache.open(dir.resolve("cache"), ChunkCache.DEFAULT_CHUNK_BYTES, 1L << 30, 8);
        policy = RemoteClones.policy(cache, Duration.ofSeconds(60));
    }

    @AfterEach
    void stopPeer() throws InterruptedException {
        if (peer != null) {
            peer.destroy();
            peer.waitFor(10, TimeUnit.SECONDS);
        }
    }

    private Path serveWithQemuNbd(Path file) throws Exception {
        Path socket = dir.resolve("t.sock");
        peer = QemuTools.serveNbd(file, "raw", socket, "tmpl", dir.resolve("qemu-nbd.log"));
        return socket;
    }

    /** A qcow2 clone made by qemu-img, the backing name stored as given; with -u, 8 MiB and not opened. */
    private Path qemuImgClone(String name, String backing, String format, String... unsafe) throws Exception {
        Path clone = dir.resolve(name);
        List<String> command = new java.util.ArrayList<>(
                List.of("qemu-img", "create", "-q", "-f", "qcow2", "-b", backing, "-F", format));
        command.addAll(List.of(unsafe));
        command.add(clone.toString());
        if (unsafe.length > 0) {
            command.add("8M");
        }
        QemuTools.ok(command.toArray(String[]::new));
        return clone;
    }

    private byte[] readAll(Path clone) throws IOException {
        return RemoteClones.readAll(clone, policy);
    }

    @Test
    void aCloneThatQemuImgMadeWithAJsonNbdBackingReadsTheTemplate() throws Exception {
        Path socket = serveWithQemuNbd(templateFile);
        String json = "json:{\"file.driver\":\"nbd\",\"file.server.type\":\"unix\",\"file.server.path\":\"" + socket
                + "\",\"file.export\":\"tmpl\"}";
        Path clone = qemuImgClone("c.qcow2", json, "raw");
        assertArrayEquals(template, readAll(clone));
    }

    @Test
    void aCloneThatSiphonMadeWithAnNbdUrlIsReadByQemuToo() throws Exception {
        Path socket = serveWithQemuNbd(templateFile);
        Path clone = dir.resolve("c.qcow2");
        String url = "nbd+unix:///tmpl?socket=" + socket;
        RemoteClones.create(clone, url, Optional.of("raw"), policy);
        assertArrayEquals(template, readAll(clone));
        QemuTools.ok("qemu-img", "compare", "-U", clone.toString(), templateFile.toString());
    }

    @Test
    void aQcow2TemplateServedByNbdkitOverTcp() throws Exception {
        QemuTools.require("nbdkit");
        Path qcow2 = dir.resolve("t.qcow2");
        QemuTools.ok("qemu-img", "convert", "-f", "raw", "-O", "qcow2", templateFile.toString(), qcow2.toString());
        int port;
        try (ServerSocket probe = new ServerSocket(0)) {
            port = probe.getLocalPort();
        }
        Path pidFile = dir.resolve("nbdkit.pid");
        peer = QemuTools.start(
                List.of(
                        "nbdkit",
                        "-f",
                        "-r",
                        "-i",
                        "127.0.0.1",
                        "-p",
                        Integer.toString(port),
                        "-P",
                        pidFile.toString(),
                        "file",
                        qcow2.toString()),
                dir.resolve("nbdkit.log"));
        QemuTools.awaitSocket(pidFile, peer);
        Path clone = qemuImgClone("c.qcow2", "nbd://127.0.0.1:" + port, "qcow2");
        assertArrayEquals(template, readAll(clone));
    }

    @Test
    void aReadRidesOutAServerRestartAndAMissingExportIsNamed() throws Exception {
        Path socket = serveWithQemuNbd(templateFile);
        Path clone = qemuImgClone("c.qcow2", "nbd+unix:///tmpl?socket=" + socket, "raw");
        try (ImageChain chain =
                ImageChain.open(clone, Optional.of("qcow2"), OpenOptions.READ_ONLY.withRemote(policy))) {
            chain.top().read(0, ByteBuffer.allocate(4096));
            peer.destroy();
            peer.waitFor(10, TimeUnit.SECONDS);
            CompletableFuture<byte[]> read = RemoteClones.readWhenFetching(cache, chain.top(), 6 << 20, 1 << 20);
            serveWithQemuNbd(templateFile);
            assertArrayEquals(java.util.Arrays.copyOfRange(template, 6 << 20, 7 << 20), read.get(60, TimeUnit.SECONDS));
        }
        Path wrong = qemuImgClone("w.qcow2", "nbd+unix:///other?socket=" + socket, "raw", "-u");
        RemoteObjectException missing = assertThrows(RemoteObjectException.class, () -> readAll(wrong));
        assertEquals(RemoteObjectException.Reason.NOT_FOUND, missing.reason());
    }

    @Test
    void aSparseTemplatesHolesComeFromTheServersBlockStatusAsQemuSeesThemAndAPullSkipsThem() throws Exception {
        int mib = 1 << 20;
        Path sparse = dir.resolve("sparse.raw");
        try (RandomAccessFile file = new RandomAccessFile(sparse.toFile(), "rw")) {
            file.setLength(SIZE);
            file.seek(0);
            file.write(template, 0, mib);
            file.seek(5L * mib);
            file.write(template, 5 * mib, mib);
        }
        Path socket = serveWithQemuNbd(sparse);
        Path clone = qemuImgClone("c.qcow2", "nbd+unix:///tmpl?socket=" + socket, "raw");
        List<Extent> expected = List.of(
                new Extent(0, mib, Allocation.DATA, 0),
                new Extent(mib, 4L * mib, Allocation.ZERO, mib),
                new Extent(5L * mib, mib, Allocation.DATA, 5L * mib),
                new Extent(6L * mib, 2L * mib, Allocation.ZERO, 6L * mib));
        try (ImageChain chain =
                ImageChain.open(clone, Optional.of("qcow2"), OpenOptions.READ_ONLY.withRemote(policy))) {
            assertEquals(expected, chain.images().get(1).blockStatus(0, SIZE));
        }
        // QEMU, following the same NBD backing itself, maps the same zero ranges
        List<QemuTools.MapEntry> qemu =
                QemuTools.map(QemuTools.ok("qemu-img", "map", "--output=json", clone.toString()));
        for (Extent extent : expected) {
            boolean zero = extent.allocation() == Allocation.ZERO;
            assertTrue(
                    qemu.stream()
                            .filter(e -> e.start() < extent.endBytes() && e.start() + e.length() > extent.offsetBytes())
                            .allMatch(e -> e.zero() == zero && e.data() != zero),
                    () -> extent + " vs qemu-img map " + qemu);
        }
        long fetchedBefore = cache.stats().fetchedBytes();
        try (Disk disk = Disk.open("vda", clone, Optional.of("qcow2"), false, policy)) {
            Job job = StreamJob.create(disk, StreamOptions.defaults());
            job.start();
            assertTrue(job.awaitEnd(Duration.ofSeconds(60)));
            assertEquals(Optional.empty(), job.info().error());
        }
        assertEquals(2L * mib, cache.stats().fetchedBytes() - fetchedBefore, "the pull fetched only the data");
        QemuTools.assertCheckClean(clone);
        QemuTools.ok("qemu-img", "compare", clone.toString(), sparse.toString());
    }
}
