package io.siphon.daemon.web;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.siphon.format.ImageChain;
import io.siphon.format.OpenOptions;
import io.siphon.testing.QemuTools;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The allocation map of chains qemu-img and qemu-io made: each cell where its data is. */
@Tag("interop")
class AllocationMapTest {
    private static final long MIB = 1 << 20;

    @TempDir
    Path dir;

    @Test
    void cellsSayTopPartlyCopiedTemplateOrZeroes() throws Exception {
        // a 32 MiB template with data in its first 4 MiB, under a 64 MiB top (longer than it)
        Path template = dir.resolve("template.qcow2");
        QemuTools.create(template, "qcow2", 32 * MIB, null, null);
        QemuTools.write(template, "qcow2", 0x11, 0, 4 * MIB);
        Path top = dir.resolve("top.qcow2");
        QemuTools.create(top, "qcow2", 64 * MIB, "template.qcow2", "qcow2");
        QemuTools.io(top, "qcow2", List.of("write -P 0x22 0 64k", "write -z 8M 1M", "write -P 0x33 40M 1M"));
        try (ImageChain chain = ImageChain.open(top, Optional.of("qcow2"), OpenOptions.READ_ONLY)) {
            AllocationMap map = AllocationMap.of(chain.images());
            assertEquals(256 * 1024, map.cellBytes()); // 64 MiB in 256 cells
            String expected = "t" + "B".repeat(15) // the top holds 64 KiB of the first cell
                    + "Z".repeat(16)
                    + "T".repeat(4) // written as zeroes in the top: held there
                    + "Z".repeat(124)
                    + "T".repeat(4) // past the template's end, written in the top
                    + "Z".repeat(92);
            assertEquals(expected, map.cells());
        }
    }

    @Test
    void aSmallDiskHasOneCellPer64KiB() throws Exception {
        Path image = dir.resolve("small.qcow2");
        QemuTools.create(image, "qcow2", 200 * 1024, null, null);
        QemuTools.write(image, "qcow2", 0x44, 128 * 1024, 4096);
        try (ImageChain chain = ImageChain.open(image, Optional.of("qcow2"), OpenOptions.READ_ONLY)) {
            AllocationMap map = AllocationMap.of(chain.images());
            assertEquals(64 * 1024, map.cellBytes());
            assertEquals("ZZTZ", map.cells());
        }
    }
}
