package io.siphon.cli.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.cli.Cli;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The demo: its images are real, and qemu-img agrees with what it shows. */
@Tag("interop")
class DemoCommandTest {
    @Test
    void pullsTheCloneAndQemuImgReadsItAsShown(@TempDir Path dir) throws Exception {
        Path work = dir.resolve("demo");
        Cli.Result demo = Cli.siphon("demo", "--dir", work.toString());
        assertEquals(0, demo.status(), demo.toString());
        Path disk = work.resolve("disk.qcow2");
        assertTrue(demo.out().contains("$ siphon image info --backing-chain " + disk), demo.out());
        assertTrue(demo.out().contains("Pull complete\n"), demo.out());
        assertTrue(demo.out().contains("Content mismatch at offset 2097152!"), demo.out());

        Cli.Result map = Cli.qemuImg(dir, "map", "--output=json", disk.toString());
        assertTrue(
                demo.out().contains(map.out()), "qemu-img map shows:\n" + map.out() + "\ndemo shows:\n" + demo.out());
        assertEquals(0, Cli.qemuImg(dir, "check", disk.toString()).status());
        Cli.Result info = Cli.qemuImg(dir, "info", disk.toString());
        assertFalse(info.out().contains("backing file"), info.out());
        assertTrue(Files.exists(work.resolve("template.qcow2")));
    }

    @Test
    void cleansUpItsTemporaryDirectory() {
        Cli.Result demo = Cli.siphon("demo");
        assertEquals(0, demo.status(), demo.toString());
        String line = demo.out()
                .lines()
                .filter(l -> l.startsWith("Working in "))
                .findFirst()
                .orElseThrow();
        assertTrue(Files.notExists(Path.of(line.substring("Working in ".length()))), line);
    }

    @Test
    void refusesAnExistingDirectory(@TempDir Path dir) {
        Cli.Result demo = Cli.siphon("demo", "--dir", dir.toString());
        assertEquals(1, demo.status());
        assertEquals("siphon: " + dir + ": file already exists\n", demo.err());
    }
}
