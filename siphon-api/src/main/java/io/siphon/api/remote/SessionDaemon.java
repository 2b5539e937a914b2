package io.siphon.api.remote;

import io.siphon.api.ErrorCode;
import io.siphon.api.SiphonException;
import io.siphon.net.Connect;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The per-user daemon behind {@code siphon:///session}: its state directory (system property {@code
 * siphon.session.dir}, else {@code $SIPHON_SESSION_DIR}, else {@code $XDG_DATA_HOME/siphon}, else
 * {@code ~/.local/share/siphon}) and
 * socket inside it, started as a child JVM on this class path when nothing listens there.
 */
final class SessionDaemon {
    private static final Logger LOG = LoggerFactory.getLogger(SessionDaemon.class);
    private static final String MAIN_CLASS = "io.siphon.daemon.DaemonMain";
    private static final long START_TIMEOUT_MILLIS = 30_000;
    private static final Set<PosixFilePermission> OWNER_DIRECTORY = PosixFilePermissions.fromString("rwx------");
    private static final Set<PosixFilePermission> OWNER_FILE = PosixFilePermissions.fromString("rw-------");

    private final Path stateDir;

    private SessionDaemon(Path stateDir) {
        this.stateDir = stateDir;
    }

    static SessionDaemon forCurrentUser() {
        String explicit = System.getProperty("siphon.session.dir", System.getenv("SIPHON_SESSION_DIR"));
        if (explicit != null && !explicit.isEmpty()) {
            return new SessionDaemon(Path.of(explicit));
        }
        String xdg = System.getenv("XDG_DATA_HOME");
        Path base = xdg != null && !xdg.isEmpty()
                ? Path.of(xdg)
                : Path.of(System.getProperty("user.home"), ".local", "share");
        return new SessionDaemon(base.resolve("siphon"));
    }

    Path socket() {
        return stateDir.resolve("siphon.sock");
    }

    /** Starts the daemon unless one answers on the socket; waits until it listens. */
    synchronized void ensureRunning() {
        if (answers()) {
            return;
        }
        try {
            Class.forName(MAIN_CLASS, false, SessionDaemon.class.getClassLoader());
        } catch (ClassNotFoundException e) {
            throw new SiphonException(
                    ErrorCode.CONNECTION_FAILED,
                    "no session daemon listens on " + socket()
                            + " and siphon-daemon is not on the class path to start one");
        }
        try {
            createPrivately(stateDir, true);
            Path log = stateDir.resolve("daemon.log");
            createPrivately(log, false);
            Path java = Path.of(System.getProperty("java.home"), "bin", "java");
            List<String> command = List.of(
                    java.toString(),
                    "--enable-native-access=ALL-UNNAMED",
                    "-cp",
                    System.getProperty("java.class.path"),
                    MAIN_CLASS,
                    "--state-dir",
                    stateDir.toString());
            LOG.info("starting the session daemon in {}", stateDir);
            new ProcessBuilder(command)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                    .redirectErrorStream(true)
                    .redirectInput(
                            ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                    .start();
        } catch (IOException e) {
            throw new SiphonException(
                    ErrorCode.CONNECTION_FAILED, "cannot start the session daemon: " + e.getMessage(), e);
        }
        long deadline = System.nanoTime() + START_TIMEOUT_MILLIS * 1_000_000L;
        while (System.nanoTime() < deadline) {
            if (answers()) {
                return;
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        throw new SiphonException(
                ErrorCode.CONNECTION_FAILED,
                "the session daemon did not listen on " + socket() + " within " + START_TIMEOUT_MILLIS / 1000
                        + " s; see " + stateDir.resolve("daemon.log"));
    }

    /**
     * Creates {@code path} (a directory, mode 0700, or a file, 0600) unless it exists: the state
     * directory holds the read-write socket and the domains, and the log names their files. Parents
     * are created as usual.
     */
    private static void createPrivately(Path path, boolean directory) throws IOException {
        if (Files.exists(path)) {
            return;
        }
        Path parent = path.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        try {
            if (directory) {
                Files.createDirectory(path, PosixFilePermissions.asFileAttribute(OWNER_DIRECTORY));
            } else {
                Files.createFile(path, PosixFilePermissions.asFileAttribute(OWNER_FILE));
            }
        } catch (FileAlreadyExistsException e) {
            // another client started the daemon at the same moment
        }
    }

    private boolean answers() {
        return Connect.answers(socket());
    }
}
