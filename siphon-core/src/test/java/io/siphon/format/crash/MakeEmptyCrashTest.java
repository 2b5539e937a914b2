package io.siphon.format.crash;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.format.ImageChain;
import io.siphon.format.OpenOptions;
import io.siphon.testing.QemuTools;
import io.siphon.util.CrashPoints;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Emptying a qcow2 top (commit without -d) killed inside the rewrite to the smallest layout: the
 * image is left dirty, reads its backing already, and a writable open by Siphon (or qemu-img check
 * -r all) repairs it to a clean image.
 */
class MakeEmptyCrashTest {
    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"qcow2.empty.zeroed", "qcow2.empty.rewritten"})
    void aCrashLeavesADirtyImageThatReadsTheBackingAndIsRepairedOnOpen(String point) throws Exception {
        Path base = dir.resolve("base.raw");
        Files.write(base, new byte[4 << 20]);
        QemuTools.io(base, "raw", List.of("write -P 7 0 4M"));
        Path top = dir.resolve("top.qcow2");
        QemuTools.create(top, "qcow2", 4 << 20, "base.raw", "raw", "cluster_size=4k");
        QemuTools.io(top, "qcow2", List.of("write -P 1 0 1M", "write -z 2M 64k"));
        assertEquals(CrashPoints.EXIT_STATUS, FormatCallChild.run(point, 1, "empty", top.toString()));

        assertTrue(QemuTools.infoJson(top).contains("\"dirty-flag\": true"), QemuTools.infoJson(top));
        QemuTools.assertSameContent(base, top);
        try (ImageChain chain = ImageChain.open(top, Optional.empty(), OpenOptions.READ_WRITE)) {
            // repaired on open
        }
        QemuTools.assertCheckClean(top);
        assertArrayEquals(Files.readAllBytes(base), QemuTools.rawContent(top, dir));
    }
}
