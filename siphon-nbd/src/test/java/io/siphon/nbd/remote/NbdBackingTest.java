package io.siphon.nbd.remote;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.siphon.cache.ChunkCache;
import io.siphon.format.BackingReference;
import io.siphon.format.CreateOptions;
import io.siphon.format.ImageChain;
import io.siphon.format.OpenOptions;
import io.siphon.format.RemoteBackingPolicy;
import io.siphon.format.qcow2.Qcow2Format;
import io.siphon.format.remote.RemoteImages;
import io.siphon.format.remote.RemoteObjectException;
import io.siphon.format.remote.RetryPolicy;
import io.siphon.testing.QemuTools;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
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
        long seed = System.nanoTime();
        System.out.println("NbdBackingTest seed " + seed);
        template = new byte[SIZE];
        new Random(seed).nextBytes(template);
        templateFile = Files.write(dir.resolve("t.raw"), template);
        cache = ChunkCache.open(dir.resolve("cache"), ChunkCache.DEFAULT_CHUNK_BYTES, 1L << 30, 8);
        policy = RemoteBackingPolicy.allowRemote(new RemoteImages(
                cache, new RetryPolicy(Duration.ofMillis(20), Duration.ofMillis(200), Duration.ofSeconds(60))));
    }

    @AfterEach
    void stopPeer() throws InterruptedException {
        if (peer != null) {
            peer.destroy();
            peer.waitFor(10, TimeUnit.SECONDS);
        }
    }

    private Path serveWithQemuNbd(Path file) throws Exception {
        QemuTools.require("qemu-nbd");
        Path socket = dir.resolve("t.sock");
        Files.deleteIfExists(socket);
        peer = QemuTools.start(
                List.of("qemu-nbd", "-t", "-r", "-k", socket.toString(), "-x", "tmpl", "-f", "raw", file.toString()),
                dir.resolve("qemu-nbd.log"));
        QemuTools.awaitSocket(socket, peer);
        return socket;
    }

    private byte[] readAll(Path clone) throws IOException {
        try (ImageChain chain =
                ImageChain.open(clone, Optional.of("qcow2"), OpenOptions.READ_ONLY.withRemote(policy))) {
            ByteBuffer all = ByteBuffer.allocate((int) chain.top().sizeBytes());
            chain.top().read(0, all);
            return all.array();
        }
    }

    @Test
    void aCloneThatQemuImgMadeWithAJsonNbdBackingReadsTheTemplate() throws Exception {
        Path socket = serveWithQemuNbd(templateFile);
        Path clone = dir.resolve("c.qcow2");
        String json = "json:{\"file.driver\":\"nbd\",\"file.server.type\":\"unix\",\"file.server.path\":\"" + socket
                + "\",\"file.export\":\"tmpl\"}";
        QemuTools.ok("qemu-img", "create", "-q", "-f", "qcow2", "-b", json, "-F", "raw", clone.toString());
        assertArrayEquals(template, readAll(clone));
    }

    @Test
    void aCloneThatSiphonMadeWithAnNbdUrlIsReadByQemuToo() throws Exception {
        Path socket = serveWithQemuNbd(templateFile);
        Path clone = dir.resolve("c.qcow2");
        String url = "nbd+unix:///tmpl?socket=" + socket;
        new Qcow2Format()
                .create(
                        clone,
                        new CreateOptions(
                                CreateOptions.SIZE_OF_BACKING,
                                Optional.of(BackingReference.of(url, "raw")),
                                Map.of(),
                                policy));
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
        Path clone = dir.resolve("c.qcow2");
        QemuTools.ok(
                "qemu-img",
                "create",
                "-q",
                "-f",
                "qcow2",
                "-b",
                "nbd://127.0.0.1:" + port,
                "-F",
                "qcow2",
                clone.toString());
        assertArrayEquals(template, readAll(clone));
    }

    @Test
    void aReadRidesOutAServerRestartAndAMissingExportIsNamed() throws Exception {
        Path socket = serveWithQemuNbd(templateFile);
        Path clone = dir.resolve("c.qcow2");
        QemuTools.ok(
                "qemu-img",
                "create",
                "-q",
                "-f",
                "qcow2",
                "-b",
                "nbd+unix:///tmpl?socket=" + socket,
                "-F",
                "raw",
                clone.toString());
        try (ImageChain chain =
                ImageChain.open(clone, Optional.of("qcow2"), OpenOptions.READ_ONLY.withRemote(policy))) {
            chain.top().read(0, ByteBuffer.allocate(4096));
            peer.destroy();
            peer.waitFor(10, TimeUnit.SECONDS);
            long fetchesBefore = cache.stats().fetches();
            CompletableFuture<byte[]> read = CompletableFuture.supplyAsync(() -> {
                try {
                    ByteBuffer dst = ByteBuffer.allocate(1 << 20);
                    chain.top().read(6 << 20, dst);
                    return dst.array();
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            while (cache.stats().fetches() == fetchesBefore) {
                Thread.onSpinWait();
            }
            serveWithQemuNbd(templateFile);
            assertArrayEquals(java.util.Arrays.copyOfRange(template, 6 << 20, 7 << 20), read.get(60, TimeUnit.SECONDS));
        }
        Path wrong = dir.resolve("w.qcow2");
        QemuTools.ok(
                "qemu-img",
                "create",
                "-q",
                "-f",
                "qcow2",
                "-u",
                "-b",
                "nbd+unix:///other?socket=" + socket,
                "-F",
                "raw",
                wrong.toString(),
                "8M");
        RemoteObjectException missing = assertThrows(RemoteObjectException.class, () -> readAll(wrong));
        assertEquals(RemoteObjectException.Reason.NOT_FOUND, missing.reason());
    }
}
