package io.siphon.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The image demo: its images are real, and qemu-img agrees with what it shows. */
@Tag("interop")
class DemoCommandTest {
    @Test
    void makesAThinCloneThatQemuImgReadsAsShown(@TempDir Path dir) throws Exception {
        Path work = dir.resolve("demo");
        Cli.Result demo = Cli.siphon("demo", "--dir", work.toString());
        assertEquals(0, demo.status(), demo.toString());
        assertTrue(
                demo.out().contains("$ siphon image info --backing-chain " + work.resolve("clone.qcow2")), demo.out());
        assertTrue(demo.out().contains("Content mismatch at offset 2097152!"), demo.out());

        Cli.Result map = Cli.qemuImg(
                dir, "map", "--output=json", work.resolve("clone.qcow2").toString());
        assertTrue(
                demo.out().contains(map.out()), "qemu-img map shows:\n" + map.out() + "\ndemo shows:\n" + demo.out());
        assertEquals(
                0,
                Cli.qemuImg(dir, "check", work.resolve("clone.qcow2").toString())
                        .status());
        Cli.Result info = Cli.qemuImg(dir, "info", work.resolve("clone.qcow2").toString());
        assertTrue(info.out().contains("backing file: template.qcow2 (actual path: "), info.out());
        // the clone is thin: one 64 KiB cluster of data, not the template's megabytes
        assertTrue(Files.size(work.resolve("clone.qcow2")) < Files.size(work.resolve("template.qcow2")) / 4);
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
