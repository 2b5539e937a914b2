package io.siphon.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.api.SiphonVersion;
import io.siphon.daemon.Daemon;
import java.nio.file.Path;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code siphon --version} and {@code siphon version} in virsh's shape, on each driver and through a daemon. */
class VersionCommandTest {
    @TempDir
    Path dir;

    @Test
    void versionOptionPrintsTheProjectVersionAlone() {
        Cli.Result result = Cli.siphon("--version");
        assertEquals(0, result.status(), result.err());
        assertEquals(SiphonVersion.current() + System.lineSeparator(), result.out());
        assertTrue(SiphonVersion.current().matches("\\d+\\.\\d+\\.\\d+(-SNAPSHOT)?"), SiphonVersion.current());
    }

    @Test
    void embeddedDriverIsItsOwnHypervisor() {
        Cli.Result result = Cli.siphon("-c", "embedded://" + dir.resolve("state"), "version");
        assertEquals(0, result.status(), result.err());
        String v = SiphonVersion.current();
        assertEquals(
                String.join(
                        System.lineSeparator(),
                        "Compiled against library: siphon " + v,
                        "Using library: siphon " + v,
                        "Using API: embedded " + v,
                        "Running hypervisor: Siphon " + v,
                        "",
                        ""),
                result.out());
    }

    /** A daemon hosting the qemu driver answers with the QEMU release its storage daemon reports. */
    @Tag("interop")
    @Test
    void daemonOnQemuDriverReportsQemusVersion() throws Exception {
        Cli.Result qsd = Cli.run(dir, "qemu-storage-daemon", "--version");
        Matcher release = Pattern.compile("version (\\d+\\.\\d+\\.\\d+)").matcher(qsd.out());
        assertTrue(release.find(), qsd.out());
        try (Daemon daemon =
                Daemon.start(dir.resolve("state"), "qemu", Optional.empty(), Optional.empty(), Optional.empty())) {
            Cli.Result result = Cli.siphon("-c", "siphon+unix://" + daemon.readOnlySocket(), "version");
            assertEquals(0, result.status(), result.err());
            assertTrue(
                    result.out().contains("Using API: qemu " + SiphonVersion.current() + System.lineSeparator()),
                    result.out());
            assertTrue(
                    result.out().contains("Running hypervisor: QEMU " + release.group(1) + System.lineSeparator()),
                    result.out());
        }
    }

    /** The library lines come before the connection fails, as in virsh. */
    @Test
    void unreachableDaemonFailsAfterTheLibraryLines() {
        Cli.Result result = Cli.siphon("-c", "siphon+unix://" + dir.resolve("nothing.sock"), "version");
        assertEquals(1, result.status());
        assertTrue(result.out().startsWith("Compiled against library: siphon "), result.out());
        assertTrue(result.err().startsWith("siphon: "), result.err());
    }
}
