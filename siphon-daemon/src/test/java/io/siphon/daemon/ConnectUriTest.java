package io.siphon.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.api.Connection;
import io.siphon.api.ErrorCode;
import io.siphon.api.Siphon;
import io.siphon.api.SiphonException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Connection URIs: schemes, the on-demand session daemon, and URIs that must fail clearly. */
class ConnectUriTest {
    @TempDir
    Path dir;

    private static ErrorCode codeOf(String uri) {
        return assertThrows(SiphonException.class, () -> Siphon.connect(uri)).code();
    }

    @Test
    void badUrisFailWithTypedErrors() {
        assertEquals(ErrorCode.NO_SUPPORT, codeOf("ftp://host/x"));
        assertEquals(ErrorCode.INVALID_ARG, codeOf("no scheme"));
        assertEquals(ErrorCode.INVALID_ARG, codeOf("embedded:///"));
        assertEquals(ErrorCode.CONNECTION_FAILED, codeOf("siphon+unix://" + dir.resolve("none.sock")));
        assertEquals(ErrorCode.NO_SUPPORT, codeOf("siphon:///system"));
        assertEquals(ErrorCode.INVALID_ARG, codeOf("siphon+tls://localhost:16514/"));
    }

    @Test
    void twoEmbeddedConnectionsShareOneEngineAndItsEvents() throws Exception {
        String uri = "embedded://" + dir.resolve("state");
        try (Connection first = Siphon.connect(uri);
                Connection second = Siphon.connect(uri)) {
            TestDomains.defineAndSee(first, second, dir, "shared");
        }
        // the last close released the state directory: a daemon can take it now
        try (Daemon daemon =
                        Daemon.start(dir.resolve("state"), java.util.Optional.empty(), java.util.Optional.empty());
                Connection remote = Siphon.connect("siphon+unix://" + daemon.socket())) {
            assertEquals("shared", remote.lookup("shared").name());
        }
    }

    @Test
    void aSecondProcessCannotTakeAStateDirectoryInUse() throws Exception {
        Path state = dir.resolve("busy");
        try (DaemonProcess daemon = DaemonProcess.start(state)) {
            SiphonException e = assertThrows(
                    SiphonException.class,
                    () -> Siphon.connect("embedded://" + state).close());
            assertEquals(ErrorCode.OPERATION_FAILED, e.code());
            assertTrue(e.getMessage().contains("in use"), e.getMessage());
            assertTrue(ProcessHandle.of(daemon.pid()).orElseThrow().isAlive(), "the daemon keeps running");
        }
    }

    @Test
    void theSessionDaemonIsStartedOnDemandAndReused() throws Exception {
        Path session = dir.resolve("session");
        String previous = System.getProperty("siphon.session.dir");
        System.setProperty("siphon.session.dir", session.toString());
        try {
            try (Connection connection = Siphon.connect("siphon:///session")) {
                assertEquals(List.of(), connection.list());
            }
            // the directory holds the read-write socket and the domains; the log names their files
            assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(session)));
            assertEquals(
                    "rw-------",
                    PosixFilePermissions.toString(Files.getPosixFilePermissions(session.resolve("daemon.log"))));
            long pid = Long.parseLong(
                    Files.readString(session.resolve("daemon.pid")).strip());
            try (Connection again = Siphon.connect("siphon:///session?readonly=1")) {
                assertTrue(again.isReadOnly());
                assertEquals(List.of(), again.list());
            }
            assertEquals(
                    pid,
                    Long.parseLong(
                            Files.readString(session.resolve("daemon.pid")).strip()));
            ProcessHandle daemon = ProcessHandle.of(pid).orElseThrow();
            daemon.destroy();
            daemon.onExit().get(30, TimeUnit.SECONDS);
        } finally {
            if (previous == null) {
                System.clearProperty("siphon.session.dir");
            } else {
                System.setProperty("siphon.session.dir", previous);
            }
        }
    }
}
