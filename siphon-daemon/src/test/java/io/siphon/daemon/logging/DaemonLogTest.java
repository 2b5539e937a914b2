package io.siphon.daemon.logging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.util.ContextInitializer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The daemon's log file: timestamped lines at the level asked for, rotated by size, every file 0600. */
class DaemonLogTest {
    private static final Logger LOG = LoggerFactory.getLogger(DaemonLogTest.class);

    @TempDir
    Path dir;

    @AfterEach
    void restoreTestLogging() throws Exception {
        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        context.reset();
        new ContextInitializer(context).autoConfig();
    }

    @Test
    void linesCarryTimestampLevelAndLoggerAtTheLevelAskedFor() throws IOException {
        Path file = dir.resolve("log").resolve(DaemonLog.FILE_NAME);
        new DaemonLog(file, Level.INFO, 10 << 20, 14).install();
        LOG.debug("not recorded at info");
        LOG.info("domain d started");
        LOG.warn("a warning", new IOException("disk full"));
        List<String> lines = Files.readAllLines(file);
        assertTrue(
                lines.getFirst()
                        .matches(
                                "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}(Z|[+-]\\d\\d:\\d\\d) INFO  \\[.+\\]"
                                        + " io\\.siphon\\.daemon\\.logging\\.DaemonLogTest: domain d started"),
                lines.getFirst());
        assertTrue(lines.get(1).contains(" WARN  ") && lines.get(1).endsWith(": a warning"), lines.get(1));
        assertEquals("java.io.IOException: disk full", lines.get(2));
        assertTrue(lines.stream().noneMatch(line -> line.contains("not recorded")), lines.toString());
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file.getParent())));
    }

    /** A file past its size is renamed to NAME.DATE.N.log (mode kept) and a new 0600 file started. */
    @Test
    void rotatesBySizeKeepingEveryFilePrivate() throws IOException {
        Path file = dir.resolve(DaemonLog.FILE_NAME);
        new DaemonLog(file, Level.INFO, 4096, 14).install();
        String line = "x".repeat(200);
        for (int i = 0; i < 100; i++) {
            LOG.info("{} {}", i, line);
        }
        List<Path> archives;
        try (Stream<Path> files = Files.list(dir)) {
            archives = files.filter(f ->
                            f.getFileName().toString().matches("siphon-daemon\\.\\d{4}-\\d\\d-\\d\\d\\.\\d+\\.log"))
                    .toList();
        }
        assertTrue(archives.size() >= 2, archives.toString());
        for (Path f : Stream.concat(archives.stream(), Stream.of(file)).toList()) {
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(f)), f.toString());
        }
        assertTrue(Files.size(file) < 4096 + 512, Files.size(file) + " bytes");
        assertTrue(Files.readString(file).contains("99 " + line));
    }

    @Test
    void levelsAreNamedAsTheOptionTakesThem() {
        assertEquals(Level.DEBUG, DaemonLog.parseLevel("DEBUG"));
        assertEquals(Level.WARN, DaemonLog.parseLevel("warn"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DaemonLog.parseLevel("loud"));
        assertEquals("'loud' is not a log level (error, warn, info, debug, trace)", e.getMessage());
    }
}
