package io.siphon.cli.domain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.cli.Cli;
import io.siphon.cli.SiphonProcess;
import io.siphon.cli.demo.PullDemo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The launcher's siphon on qemu:///DIR and as {@code siphon daemon --driver qemu}, as a user runs
 * them: each command a process of its own, so the qemu driver and its JSON library must be on the
 * launcher's class path, and the QEMU process must outlive every command.
 */
@Tag("interop")
class QemuProcessIT {
    @TempDir
    Path dir;

    private Cli.Result siphon(String... args) throws IOException, InterruptedException {
        Cli.Result result = SiphonProcess.run(dir, Map.of(), args);
        assertEquals(0, result.status(), String.join(" ", args) + ": " + result);
        return result;
    }

    private void chain() throws IOException, InterruptedException {
        assertEquals(
                0,
                Cli.qemuImg(dir, "create", "-q", "-f", "qcow2", "base.qcow2", "4M")
                        .status());
        Cli.qemuIo(dir, "qcow2", "base.qcow2", "write -P 0x11 0 4M");
        assertEquals(
                0,
                Cli.qemuImg(dir, "create", "-q", "-f", "qcow2", "-b", "base.qcow2", "-F", "qcow2", "top.qcow2")
                        .status());
        Files.writeString(dir.resolve("d.xml"), PullDemo.domainXml("d", dir.resolve("top.qcow2")));
    }

    @Test
    void eachCommandFindsTheQemuProcessAgain() throws IOException, InterruptedException {
        chain();
        String uri = "qemu://" + dir.resolve("state");
        siphon("-c", uri, "define", dir.resolve("d.xml").toString());
        siphon("-c", uri, "start", "d");
        String disks = siphon("-c", uri, "domblklist", "d").out();
        assertTrue(disks.contains("nbd+unix:///d/vda?socket="), disks);
        assertEquals(
                "Pull complete\n",
                siphon("-c", uri, "blockpull", "d", "vda", "--wait").out());
        siphon("-c", uri, "shutdown", "d");
        assertTrue(!Cli.qemuImg(dir, "info", "top.qcow2").out().contains("backing file"));
        assertEquals(0, Cli.qemuImg(dir, "compare", "base.qcow2", "top.qcow2").status());
    }

    @Test
    void theDaemonHostsTheQemuDriver() throws IOException, InterruptedException {
        chain();
        Path state = dir.resolve("state");
        Process daemon = SiphonProcess.start(
                dir, Map.of(), "daemon", "daemon", "--state-dir", state.toString(), "--driver", "qemu");
        try {
            Path socket = state.resolve("siphon.sock");
            for (int i = 0; i < 600 && !Files.exists(socket); i++) {
                assertTrue(daemon.isAlive(), () -> "siphon daemon exited: " + read(dir.resolve("daemon.err")));
                Thread.sleep(50); // nothing to wait on but the socket file
            }
            String uri = "siphon+unix://" + socket;
            siphon("-c", uri, "define", dir.resolve("d.xml").toString());
            siphon("-c", uri, "start", "d");
            assertTrue(Files.exists(state.resolve("run/d.qmp")), "no QEMU monitor in the daemon's state");
            assertEquals(
                    "Pull complete\n",
                    siphon("-c", uri, "blockpull", "d", "vda", "--wait").out());
            siphon("-c", uri, "shutdown", "d");
        } finally {
            daemon.destroy();
            assertTrue(daemon.waitFor(30, TimeUnit.SECONDS), "siphon daemon did not stop on SIGTERM");
        }
        assertEquals(0, Cli.qemuImg(dir, "compare", "base.qcow2", "top.qcow2").status());
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            return e.toString();
        }
    }
}
