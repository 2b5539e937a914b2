package io.siphon.cli.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.cli.Cli;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code siphon image serve} as a user runs it: a process serving until SIGTERM. */
@Tag("interop")
class ServeCommandTest {
    @TempDir
    Path dir;

    @Test
    void servesAQcow2OverlayUntilSigtermAndTheWritesAreInTheFile() throws Exception {
        Path base = dir.resolve("base.qcow2");
        Path overlay = dir.resolve("overlay.qcow2");
        Cli.qemuImg(dir, "create", "-f", "qcow2", base.toString(), "8M");
        Cli.run(dir, "qemu-io", "-f", "qcow2", "-c", "write -P 0x61 0 1M", base.toString());
        Cli.qemuImg(dir, "create", "-f", "qcow2", "-b", "base.qcow2", "-F", "qcow2", overlay.toString());
        Path socket = dir.resolve("serve.sock");
        ServedImage served = ServedImage.start(dir, "--socket", socket.toString(), "--name", "vm", overlay.toString());
        assertEquals("nbd+unix:///vm?socket=" + socket, served.uri());
        Cli.Result io = Cli.run(
                dir, "qemu-io", "-f", "raw", "-c", "read -P 0x61 0 1M", "-c", "write -P 0x62 2M 64k", served.uri());
        assertEquals(0, io.status(), io.out() + io.err());
        assertFalse(io.out().contains("verification failed"), io.out());
        Cli.Result info = Cli.run(dir, "nbdinfo", served.uri());
        assertTrue(info.out().contains("is_read_only: false"), info.out());
        served.stop();
        assertFalse(Files.exists(socket), "the socket is removed on exit");
        Cli.Result check = Cli.run(
                dir,
                "qemu-io",
                "-f",
                "qcow2",
                "-c",
                "read -P 0x62 2M 64k",
                "-c",
                "read -P 0x61 0 1M",
                overlay.toString());
        assertEquals(0, check.status(), check.out() + check.err());
        assertFalse(check.out().contains("verification failed"), check.out());
        assertEquals(0, Cli.qemuImg(dir, "check", overlay.toString()).status());
    }

    @Test
    void readOnlyOverTcpRefusesWrites() throws Exception {
        Path raw = dir.resolve("disk.raw");
        Files.write(raw, new byte[1 << 20]);
        ServedImage served = ServedImage.start(dir, "--port", "0", "--read-only", "-f", "raw", raw.toString());
        assertTrue(served.uri().startsWith("nbd://127.0.0.1:"), served.uri());
        Cli.Result info = Cli.run(dir, "nbdinfo", served.uri());
        assertTrue(info.out().contains("is_read_only: true"), info.out());
        Cli.Result write = Cli.run(dir, "qemu-io", "-f", "raw", "-c", "write 0 4k", served.uri());
        assertNotEquals(0, write.status());
        served.stop();
    }

    @Test
    void socketAndPortTogetherIsAUsageError() {
        Cli.Result result = Cli.siphon("image", "serve", "--socket", "x.sock", "--port", "1", "-f", "raw", "disk.raw");
        assertEquals(1, result.status());
        assertTrue(result.err().contains("exactly one of --socket PATH or --port N"), result.err());
    }
}
