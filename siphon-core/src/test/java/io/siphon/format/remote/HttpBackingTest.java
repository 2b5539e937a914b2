package io.siphon.format.remote;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.cache.ChunkCache;
import io.siphon.format.Image;
import io.siphon.format.ImageChain;
import io.siphon.format.ImageFormatException;
import io.siphon.format.OpenOptions;
import io.siphon.format.RemoteBackingPolicy;
import io.siphon.testing.QemuTools;
import io.siphon.testing.RangeHttpServer;
import io.siphon.testing.RemoteClones;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Clones of templates on a real HTTP server, read through the chunk cache; QEMU reads the same clones. */
class HttpBackingTest {
    private static final int SIZE = 8 << 20;

    @TempDir
    Path dir;

    private RangeHttpServer server;
    private ChunkCache cache;
    private RemoteBackingPolicy policy;
    private byte[] template;

    @BeforeEach
    void start() throws IOException {
        template = RemoteClones.randomTemplate("HttpBackingTest", SIZE);
        java.util.Arrays.fill(template, 3 << 20, 4 << 20, (byte) 0);
        Files.write(dir.resolve("t.raw"), template);
        server = RangeHttpServer.start();
        server.serve("t.raw", dir.resolve("t.raw"));
        cache = ChunkCache.open(dir.resolve("cache"), ChunkCache.DEFAULT_CHUNK_BYTES, 1L << 30, 8);
        policy = RemoteClones.policy(cache, Duration.ofSeconds(60));
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private Path clone(String name, String backing, String format) throws IOException {
        return RemoteClones.create(dir.resolve(name), backing, Optional.of(format), policy);
    }

    private byte[] readAll(Path clone) throws IOException {
        return RemoteClones.readAll(clone, policy);
    }

    @Test
    void aCloneOfAnHttpTemplateReadsTheTemplateAndQemuReadsItToo() throws Exception {
        Path clone = clone("c.qcow2", server.url("t.raw").toString(), "raw");
        assertArrayEquals(template, readAll(clone));
        QemuTools.ok(
                "qemu-img",
                "compare",
                "-U",
                clone.toString(),
                dir.resolve("t.raw").toString());
    }

    @Test
    void clonesShareOneFetchOfEachChunk() throws IOException {
        Path first = clone("a.qcow2", server.url("t.raw").toString(), "raw");
        Path second = clone("b.qcow2", server.url("t.raw").toString(), "raw");
        assertArrayEquals(template, readAll(first));
        assertArrayEquals(template, readAll(second));
        long opens = 4; // each create and each chain open asks for the size with a one-byte range
        assertTrue(
                server.bytesServed() <= SIZE + opens,
                "served " + server.bytesServed() + " bytes for two clones of " + SIZE);
    }

    @Test
    void aCloneOfAQcow2TemplateOnHttp() throws Exception {
        Path qcow2 = dir.resolve("t.qcow2");
        QemuTools.ok(
                "qemu-img",
                "convert",
                "-f",
                "raw",
                "-O",
                "qcow2",
                dir.resolve("t.raw").toString(),
                qcow2.toString());
        server.serve("t.qcow2", qcow2);
        Path clone = clone("q.qcow2", server.url("t.qcow2").toString(), "qcow2");
        assertArrayEquals(template, readAll(clone));
        Path probed = clone(
                "p.qcow2", "json:{\"file.driver\":\"http\",\"file.url\":\"" + server.url("t.qcow2") + "\"}", "qcow2");
        assertArrayEquals(template, readAll(probed));
    }

    @Test
    void aLocalImageNamesARemoteBackingOnlyWhenAllowed() throws IOException {
        Path clone = clone("c.qcow2", server.url("t.raw").toString(), "raw");
        ImageFormatException refused = assertThrows(
                ImageFormatException.class, () -> ImageChain.open(clone, Optional.of("qcow2"), OpenOptions.READ_ONLY));
        assertEquals(ImageFormatException.Reason.REFUSED, refused.reason());
        assertTrue(refused.getMessage().contains(server.url("t.raw").toString()), refused.getMessage());
    }

    @Test
    void aRemoteImageMayNotNameALocalFile() throws Exception {
        Path local = dir.resolve("t.raw").toAbsolutePath();
        Path sneaky = dir.resolve("sneaky.qcow2");
        QemuTools.ok("qemu-img", "create", "-q", "-f", "qcow2", "-b", local.toString(), "-F", "raw", sneaky.toString());
        server.serve("sneaky.qcow2", sneaky);
        Path clone = clone("c.qcow2", server.url("sneaky.qcow2").toString(), "qcow2");
        ImageFormatException refused = assertThrows(ImageFormatException.class, () -> readAll(clone));
        assertEquals(ImageFormatException.Reason.REFUSED, refused.reason());
        assertTrue(refused.getMessage().contains("names the local file '" + local + "'"), refused.getMessage());
    }

    @Test
    void aMissingObjectOrRefusedCredentialsAreOneErrorNamingTheObject() throws IOException {
        String missing = server.url("nope.raw").toString();
        RemoteObjectException notFound =
                assertThrows(RemoteObjectException.class, () -> clone("m.qcow2", missing, "raw"));
        assertEquals(RemoteObjectException.Reason.NOT_FOUND, notFound.reason());
        assertTrue(notFound.getMessage().startsWith(missing + ": "), notFound.getMessage());
        assertFalse(Files.exists(dir.resolve("m.qcow2")), "no half-made clone");

        server.requireToken("secret");
        RemoteObjectException denied = assertThrows(
                RemoteObjectException.class,
                () -> clone("d.qcow2", server.url("t.raw").toString(), "raw"));
        assertEquals(RemoteObjectException.Reason.ACCESS_DENIED, denied.reason());
    }

    @Test
    void anUnknownSchemeIsRefusedByName() {
        RemoteObjectException unknown =
                assertThrows(RemoteObjectException.class, () -> clone("f.qcow2", "ftp://host/t.raw", "raw"));
        assertEquals(RemoteObjectException.Reason.BAD_NAME, unknown.reason());
        assertTrue(unknown.getMessage().startsWith("ftp://host/t.raw: unknown scheme 'ftp'"), unknown.getMessage());
        assertFalse(Files.exists(dir.resolve("f.qcow2")));
    }

    @Test
    void anObjectChangedUnderAReaderIsAnErrorNotAMix() throws IOException {
        Path clone = clone("c.qcow2", server.url("t.raw").toString(), "raw");
        try (ImageChain chain =
                ImageChain.open(clone, Optional.of("qcow2"), OpenOptions.READ_ONLY.withRemote(policy))) {
            chain.top().read(0, ByteBuffer.allocate(4096));
            Path file = dir.resolve("t.raw");
            Files.write(file, new byte[SIZE]);
            Files.setLastModifiedTime(file, FileTime.fromMillis(System.currentTimeMillis() + 5000));
            RemoteObjectException changed = assertThrows(
                    RemoteObjectException.class, () -> chain.top().read(6 << 20, ByteBuffer.allocate(4096)));
            assertEquals(RemoteObjectException.Reason.CHANGED, changed.reason());
        }
    }

    @Test
    void aReadWaitsOutAnOutageAndGetsAnErrorAfterTheTimeout() throws Exception {
        Path clone = clone("c.qcow2", server.url("t.raw").toString(), "raw");
        try (ImageChain chain =
                ImageChain.open(clone, Optional.of("qcow2"), OpenOptions.READ_ONLY.withRemote(policy))) {
            Image top = chain.top();
            server.stop();
            CompletableFuture<byte[]> read = RemoteClones.readWhenFetching(cache, top, 5 << 20, 1 << 20);
            server.restart();
            byte[] expected = java.util.Arrays.copyOfRange(template, 5 << 20, 6 << 20);
            assertArrayEquals(expected, read.get(60, TimeUnit.SECONDS));
        }
        server.stop();
        RemoteBackingPolicy impatient = RemoteClones.policy(
                ChunkCache.inMemory(ChunkCache.DEFAULT_CHUNK_BYTES, 64 << 20, 1), Duration.ofMillis(300));
        RemoteObjectException unavailable = assertThrows(
                RemoteObjectException.class,
                () -> ImageChain.open(clone, Optional.of("qcow2"), OpenOptions.READ_ONLY.withRemote(impatient)));
        assertEquals(RemoteObjectException.Reason.UNAVAILABLE, unavailable.reason());
        assertTrue(unavailable.getMessage().contains("unreachable for 300 ms"), unavailable.getMessage());
    }
}
