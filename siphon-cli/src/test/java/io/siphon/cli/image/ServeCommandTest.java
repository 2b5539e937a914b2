package io.siphon.cli.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.cli.Cli;
import io.siphon.cli.Main;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code siphon image serve} as a user runs it: a process serving until SIGTERM. */
@Tag("interop")
class ServeCommandTest {
    @TempDir
    Path dir;

    /** Starts {@code siphon image serve ARGS} in a child JVM and returns it with the URI it printed. */
    private record Served(Process process, String uri) {}

    private Served serve(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED",
                "-cp",
                System.getProperty("java.class.path"),
                Main.class.getName(),
                "image",
                "serve"));
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command)
                .redirectError(dir.resolve("serve.err").toFile())
                .start();
        BufferedReader out =
                new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        String uri = out.readLine();
        assertTrue(uri != null && uri.startsWith("nbd"), () -> "no URI printed; stderr: " + stderr());
        return new Served(process, uri);
    }

    private String stderr() {
        try {
            return Files.readString(dir.resolve("serve.err"));
        } catch (java.io.IOException e) {
            return e.toString();
        }
    }

    private static void stop(Served served) throws Exception {
        served.process().destroy(); // SIGTERM
        assertTrue(served.process().waitFor(60, TimeUnit.SECONDS), "serve did not stop on SIGTERM");
    }

    @Test
    void servesAQcow2OverlayUntilSigtermAndTheWritesAreInTheFile() throws Exception {
        Path base = dir.resolve("base.qcow2");
        Path overlay = dir.resolve("overlay.qcow2");
        Cli.qemuImg(dir, "create", "-f", "qcow2", base.toString(), "8M");
        Cli.run(dir, "qemu-io", "-f", "qcow2", "-c", "write -P 0x61 0 1M", base.toString());
        Cli.qemuImg(dir, "create", "-f", "qcow2", "-b", "base.qcow2", "-F", "qcow2", overlay.toString());
        Path socket = dir.resolve("serve.sock");
        Served served = serve("--socket", socket.toString(), "--name", "vm", overlay.toString());
        assertEquals("nbd+unix:///vm?socket=" + socket, served.uri());
        Cli.Result io = Cli.run(
                dir, "qemu-io", "-f", "raw", "-c", "read -P 0x61 0 1M", "-c", "write -P 0x62 2M 64k", served.uri());
        assertEquals(0, io.status(), io.out() + io.err());
        assertFalse(io.out().contains("verification failed"), io.out());
        Cli.Result info = Cli.run(dir, "nbdinfo", served.uri());
        assertTrue(info.out().contains("is_read_only: false"), info.out());
        stop(served);
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
        Served served = serve("--port", "0", "--read-only", "-f", "raw", raw.toString());
        assertTrue(served.uri().startsWith("nbd://127.0.0.1:"), served.uri());
        Cli.Result info = Cli.run(dir, "nbdinfo", served.uri());
        assertTrue(info.out().contains("is_read_only: true"), info.out());
        Cli.Result write = Cli.run(dir, "qemu-io", "-f", "raw", "-c", "write 0 4k", served.uri());
        assertNotEquals(0, write.status());
        stop(served);
    }

    @Test
    void socketAndPortTogetherIsAUsageError() {
        Cli.Result result = Cli.siphon("image", "serve", "--socket", "x.sock", "--port", "1", "-f", "raw", "disk.raw");
        assertEquals(1, result.status());
        assertTrue(result.err().contains("exactly one of --socket PATH or --port N"), result.err());
    }
}
