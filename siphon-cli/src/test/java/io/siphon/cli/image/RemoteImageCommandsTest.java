package io.siphon.cli.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.cli.Cli;
import io.siphon.testing.RangeHttpServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The image commands on clones of a template on a real HTTP server. */
@Tag("interop")
class RemoteImageCommandsTest {
    @TempDir
    Path dir;

    private RangeHttpServer server;
    private String url;
    private String cache;

    @BeforeEach
    void serve() throws Exception {
        long seed = System.nanoTime();
        System.out.println("RemoteImageCommandsTest seed " + seed);
        byte[] template = new byte[4 << 20];
        new Random(seed).nextBytes(template);
        java.util.Arrays.fill(template, 1 << 20, 2 << 20, (byte) 0);
        Files.write(dir.resolve("t.raw"), template);
        server = RangeHttpServer.start();
        server.serve("t.raw", dir.resolve("t.raw"));
        url = server.url("t.raw").toString();
        cache = dir.resolve("cache").toString();
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private Cli.Result ok(String... args) {
        Cli.Result result = Cli.siphon(args);
        assertEquals(0, result.status(), String.join(" ", args) + ": " + result);
        return result;
    }

    private String path(String name) {
        return dir.resolve(name).toString();
    }

    @Test
    void createInfoMapAndCompareAClone() throws Exception {
        ok("image", "create", "-q", "-f", "qcow2", "-b", url, "-F", "raw", "--cache-dir", cache, path("c.qcow2"));
        assertTrue(ok("image", "info", path("c.qcow2")).out().contains("backing file: " + url));
        Cli.Result chain =
                ok("image", "info", "--backing-chain", "--allow-remote-backing", "--cache-dir", cache, path("c.qcow2"));
        assertTrue(chain.out().contains("image: " + url), chain.out());
        assertTrue(chain.out().contains("file format: raw"), chain.out());
        Cli.Result map =
                ok("image", "map", "--output=json", "--allow-remote-backing", "--cache-dir", cache, path("c.qcow2"));
        assertTrue(map.out().contains("\"depth\": 1"), map.out());
        Cli.Result same = ok(
                "image",
                "compare",
                "--allow-remote-backing",
                "--cache-dir",
                cache,
                "-f",
                "qcow2",
                "-F",
                "raw",
                path("c.qcow2"),
                path("t.raw"));
        assertTrue(same.out().contains("Images are identical."), same.out());
        assertTrue(ok("image", "compare", "--cache-dir", cache, "-f", "raw", "-F", "raw", url, path("t.raw"))
                .out()
                .contains("Images are identical."));
        Cli.Result qemu = Cli.qemuImg(dir, "compare", "-U", path("c.qcow2"), path("t.raw"));
        assertEquals(0, qemu.status(), qemu.toString());
    }

    @Test
    void pullACloneToAStandaloneImage() throws Exception {
        ok("image", "create", "-q", "-f", "qcow2", "-b", url, "-F", "raw", "--cache-dir", cache, path("c.qcow2"));
        ok("image", "pull", "--allow-remote-backing", "--cache-dir", cache, path("c.qcow2"));
        assertFalse(ok("image", "info", path("c.qcow2")).out().contains("backing file"));
        Cli.Result check = Cli.qemuImg(dir, "check", path("c.qcow2"));
        assertEquals(0, check.status(), check.toString());
        Cli.Result compare = Cli.qemuImg(dir, "compare", path("c.qcow2"), path("t.raw"));
        assertEquals(0, compare.status(), compare.toString());
        server.close();
        Cli.Result offline = Cli.siphon("image", "compare", "-f", "qcow2", "-F", "raw", path("c.qcow2"), path("t.raw"));
        assertEquals(0, offline.status(), "the pulled clone needs no server: " + offline);
    }

    @Test
    void aCloneServedWithCopyOnReadHoldsWhatItsClientReadAndItsPullFetchesNothingMore() throws Exception {
        ok("image", "create", "-q", "-f", "qcow2", "-b", url, "-F", "raw", "--cache-dir", cache, path("c.qcow2"));
        Path socket = dir.resolve("serve.sock");
        ServedImage serve = ServedImage.start(
                dir,
                "--socket",
                socket.toString(),
                "--copy-on-read",
                "--allow-remote-backing",
                "--cache-dir",
                cache,
                path("c.qcow2"));
        try {
            Cli.Result guest = Cli.qemuImg(dir, "compare", "-f", "raw", "-F", "raw", serve.uri(), path("t.raw"));
            assertEquals(0, guest.status(), guest.toString());
        } finally {
            serve.stop();
        }
        long served = server.bytesServed();
        ok(
                "image",
                "pull",
                "--allow-remote-backing",
                "--cache-dir",
                dir.resolve("cold-cache").toString(),
                path("c.qcow2"));
        assertTrue(
                server.bytesServed() - served <= 2,
                "the pull fetched " + (server.bytesServed() - served) + " bytes the client had read already");
        Cli.Result check = Cli.qemuImg(dir, "check", path("c.qcow2"));
        assertEquals(0, check.status(), check.toString());
        Cli.Result compare = Cli.qemuImg(dir, "compare", path("c.qcow2"), path("t.raw"));
        assertEquals(0, compare.status(), compare.toString());
    }

    @Test
    void aHeaderNamingARemoteBackingIsRefusedWithoutTheOption() {
        ok("image", "create", "-q", "-f", "qcow2", "-b", url, "-F", "raw", "--cache-dir", cache, path("c.qcow2"));
        Cli.Result refused = Cli.siphon("image", "map", path("c.qcow2"));
        assertEquals(1, refused.status(), refused.toString());
        assertTrue(refused.err().contains("backing file '" + url + "' is remote"), refused.err());
        assertTrue(refused.err().contains("--allow-remote-backing"), refused.err());
    }

    @Test
    void badRemoteNamesAreOneLineNamingTheName() {
        for (String[] bad : new String[][] {
            {"ftp://host/t.raw", "unknown scheme 'ftp'"},
            {server.url("missing.raw").toString(), "no such object"},
            {"http://ho st/x", "malformed URL"}
        }) {
            Cli.Result result = Cli.siphon(
                    "image",
                    "create",
                    "-q",
                    "-f",
                    "qcow2",
                    "-b",
                    bad[0],
                    "-F",
                    "raw",
                    "--cache-dir",
                    cache,
                    path("x.qcow2"));
            assertEquals(1, result.status(), result.toString());
            assertTrue(result.err().contains(bad[0]) && result.err().contains(bad[1]), result.err());
            assertEquals(1, result.err().strip().lines().count(), result.err());
            assertFalse(Files.exists(dir.resolve("x.qcow2")));
        }
    }
}
