package io.siphon.cli.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.cli.Cli;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code siphon image pull} on qcow2 chains made by qemu-img, checked by qemu-img. */
@Tag("interop")
class PullCommandTest {
    @TempDir
    Path dir;

    private byte[] before;

    @BeforeEach
    void chain() throws Exception {
        assertEquals(
                0,
                Cli.qemuImg(dir, "create", "-q", "-f", "qcow2", "base.qcow2", "8M")
                        .status());
        Cli.qemuIo(dir, "qcow2", "base.qcow2", "write -P 1 0 3M", "write -P 2 5M 1M");
        assertEquals(
                0,
                Cli.qemuImg(dir, "create", "-q", "-f", "qcow2", "-b", "base.qcow2", "-F", "qcow2", "mid.qcow2")
                        .status());
        Cli.qemuIo(dir, "qcow2", "mid.qcow2", "write -P 3 1M 1M", "write -z 5M 512k");
        assertEquals(
                0,
                Cli.qemuImg(dir, "create", "-q", "-f", "qcow2", "-b", "mid.qcow2", "-F", "qcow2", "top.qcow2")
                        .status());
        Cli.qemuIo(dir, "qcow2", "top.qcow2", "write -P 4 7M 64k");
        before = content();
    }

    private byte[] content() throws Exception {
        Files.deleteIfExists(dir.resolve("content.raw"));
        assertEquals(
                0,
                Cli.qemuImg(dir, "convert", "-O", "raw", "top.qcow2", "content.raw")
                        .status());
        return Files.readAllBytes(dir.resolve("content.raw"));
    }

    private String info() throws Exception {
        return Cli.qemuImg(dir, "info", "top.qcow2").out();
    }

    @Test
    void pullWithProgressLeavesNoBacking() throws Exception {
        Cli.Result pull = Cli.siphon(
                "image",
                "pull",
                "-p",
                "--bandwidth",
                "0",
                dir.resolve("top.qcow2").toString());
        assertEquals(0, pull.status(), pull.err());
        assertTrue(pull.out().contains("(100.00/100%)"), pull.out());
        assertFalse(info().contains("backing file"), info());
        assertArrayEquals(before, content());
        assertEquals(0, Cli.qemuImg(dir, "check", "top.qcow2").status());
    }

    @Test
    void pullToABaseKeepsItRelative() throws Exception {
        Cli.Result pull = Cli.siphon(
                "image",
                "pull",
                "--base",
                "base.qcow2",
                "--keep-relative",
                dir.resolve("top.qcow2").toString());
        assertEquals(0, pull.status(), pull.err());
        assertEquals("", pull.out());
        assertTrue(info().contains("backing file: base.qcow2\n"), info());
        assertArrayEquals(before, content());
    }

    @Test
    void mistakesAreOneLine() throws Exception {
        Cli.Result noBase = Cli.siphon(
                "image", "pull", "--keep-relative", dir.resolve("top.qcow2").toString());
        assertEquals(1, noBase.status());
        assertEquals("siphon: --keep-relative needs --base\n", noBase.err());

        Cli.Result stranger = Cli.siphon(
                "image",
                "pull",
                "--base",
                "nowhere.qcow2",
                dir.resolve("top.qcow2").toString());
        assertEquals(1, stranger.status());
        assertTrue(stranger.err().contains("nowhere.qcow2"), stranger.err());
        assertEquals(1, stranger.err().lines().count(), stranger.err());

        Cli.Result badRate = Cli.siphon(
                "image", "pull", "--bandwidth", "fast", dir.resolve("top.qcow2").toString());
        assertEquals(1, badRate.status());
        assertTrue(badRate.err().startsWith("siphon: invalid size 'fast'"), badRate.err());
        assertTrue(info().contains("backing file: mid.qcow2"), "nothing changed: " + info());
    }
}
