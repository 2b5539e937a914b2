package io.siphon.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code ./siphon} launcher as a user runs it: a real process, from another directory, with
 * relative file names. Runs after package (failsafe), when the launcher's jar is built.
 */
@Tag("interop")
class LauncherIT {
    private static final String LAUNCHER =
            CompletionScriptTest.REPOSITORY.resolve("siphon").toString();

    @TempDir
    Path dir;

    @Test
    void runsFromAnyDirectoryWithRelativeNamesLikeQemuImg() throws Exception {
        Cli.Result create = Cli.run(dir, LAUNCHER, "image", "create", "-f", "qcow2", "template.qcow2", "8M");
        assertEquals(0, create.status(), create.toString());
        Cli.qemuIo(dir, "qcow2", "template.qcow2", "write -P 0x61 0 3M");
        Files.createDirectories(dir.resolve("vm"));
        Cli.Result clone = Cli.run(
                dir,
                LAUNCHER,
                "image",
                "create",
                "-f",
                "qcow2",
                "-b",
                "../template.qcow2",
                "-F",
                "qcow2",
                "vm/clone.qcow2");
        assertEquals(0, clone.status(), clone.toString());
        Cli.qemuIo(dir, "qcow2", "vm/clone.qcow2", "write -P 0x62 1M 64k");

        for (String[] args : new String[][] {
            {"info", "--backing-chain", "vm/clone.qcow2"},
            {"info", "--output=json", "--backing-chain", "vm/clone.qcow2"},
            {"map", "vm/clone.qcow2"},
            {"map", "--output=json", "vm/clone.qcow2"},
            {"check", "vm/clone.qcow2"},
        }) {
            String[] siphonArgs = new String[args.length + 2];
            siphonArgs[0] = LAUNCHER;
            siphonArgs[1] = "image";
            System.arraycopy(args, 0, siphonArgs, 2, args.length);
            Cli.Result siphon = Cli.run(dir, siphonArgs);
            Cli.Result qemu = Cli.qemuImg(dir, args);
            assertEquals(qemu.status(), siphon.status(), String.join(" ", args) + ": " + siphon);
            assertEquals(qemu.out(), siphon.out(), String.join(" ", args));
        }
    }

    @Test
    void errorsAreOneLineWithoutAStackTrace() throws Exception {
        Cli.Result missing = Cli.run(dir, LAUNCHER, "image", "info", "nothere.qcow2");
        assertEquals(1, missing.status());
        assertEquals("", missing.out());
        assertEquals(1, missing.err().lines().count(), missing.err());
        assertTrue(missing.err().startsWith("siphon: nothere.qcow2"), missing.err());

        Cli.Result compare = Cli.run(dir, LAUNCHER, "image", "compare", "a.qcow2", "b.qcow2");
        assertEquals(2, compare.status());
        assertFalse(compare.err().contains("\tat "), compare.err());

        Cli.Result usage = Cli.run(dir, LAUNCHER, "image", "map", "--bogus", "x");
        assertEquals(1, usage.status());
        assertTrue(usage.err().startsWith("siphon: Unknown option: '--bogus'"), usage.err());
    }

    @Test
    void helpAndDemoWork() throws Exception {
        Cli.Result help = Cli.run(dir, LAUNCHER, "--help");
        assertEquals(0, help.status(), help.toString());
        assertTrue(help.out().startsWith("Usage: siphon"), help.out());

        Cli.Result demo = Cli.run(dir, LAUNCHER, "demo");
        assertEquals(0, demo.status(), demo.toString());
        assertTrue(demo.out().contains("Offset          Length          Mapped to       File"), demo.out());
    }

    @Test
    void worksThroughASymlink() throws Exception {
        Path link = dir.resolve("bin/siphon");
        Files.createDirectories(link.getParent());
        Files.createSymbolicLink(link, Path.of(LAUNCHER));
        Cli.Result help = Cli.run(dir, link.toString(), "image", "--help");
        assertEquals(0, help.status(), help.toString());
        assertTrue(help.out().startsWith("Usage: siphon image"), help.out());
    }
}
