package io.siphon.blockjob;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.block.Allocation;
import io.siphon.block.Extent;
import io.siphon.block.RequestFlag;
import io.siphon.job.Job;
import io.siphon.testing.QemuTools;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Clones with extended L2 entries (subclusters), made by qemu-img and partly written by qemu-io:
 * the unallocated subclusters of a partly allocated cluster are what a pull and copy-on-read fill.
 */
@Tag("interop")
class SubclusterPullTest {
    private static final long SIZE = 8L << 20;
    private static final int SUBCLUSTER = 2048; // 64 KiB clusters
    private static final Duration LONG = Duration.ofMinutes(2);

    @TempDir
    Path dir;

    /** A qcow2 template full of data and a clone whose clusters 0 and 2 hold a few subclusters each. */
    private Path partlyWrittenClone() throws Exception {
        Path template = dir.resolve("template.qcow2");
        Path clone = dir.resolve("clone.qcow2");
        QemuTools.createQcow2(template, Long.toString(SIZE));
        QemuTools.io(template, "qcow2", List.of("write -P 0x61 0 4M", "write -P 0x62 4M 3M"));
        QemuTools.createQcow2(
                clone, Long.toString(SIZE), "-o", "extended_l2=on", "-b", "template.qcow2", "-F", "qcow2");
        QemuTools.io(
                clone,
                "qcow2",
                List.of("write -P 0x71 4096 2048", "write -P 0x72 131072 6144", "write -z 136192 2048"));
        return clone;
    }

    @Test
    void pullCopiesTheUnallocatedSubclustersOfPartlyAllocatedClusters() throws Exception {
        Path clone = partlyWrittenClone();
        byte[] before = QemuTools.rawContent(clone, dir);
        try (Disk disk = Disk.open("vda", clone, Optional.empty(), false)) {
            List<Extent> status = disk.top().blockStatus(0, 64 << 10);
            assertEquals(Allocation.UNALLOCATED, status.getFirst().allocation(), status.toString());
            assertEquals(2 * SUBCLUSTER, status.getFirst().lengthBytes(), status.toString());
            Job job = StreamJob.create(disk, StreamOptions.defaults());
            job.start();
            assertTrue(job.awaitEnd(LONG), "pull did not end");
            assertEquals(1, disk.images().size());
        }
        assertNull(QemuTools.backingName(clone));
        QemuTools.assertCheckClean(clone);
        assertArrayEquals(before, QemuTools.rawContent(clone, dir));
        Path flat = dir.resolve("template.raw");
        QemuTools.ok(
                "qemu-img",
                "convert",
                "-O",
                "raw",
                dir.resolve("template.qcow2").toString(),
                flat.toString());
        // where the clone wrote nothing it equals the template
        QemuTools.Result compare =
                QemuTools.run("qemu-img", "compare", "-f", "raw", "-F", "qcow2", flat.toString(), clone.toString());
        assertEquals(1, compare.exitCode(), "the clone's own writes differ: " + compare.stdout());
        assertTrue(compare.stdout().contains("offset 4096"), compare.stdout());
    }

    @Test
    void copyOnReadFillsSubclustersInPlace() throws Exception {
        Path clone = partlyWrittenClone();
        byte[] before = QemuTools.rawContent(clone, dir);
        try (Disk disk = Disk.open("vda", clone, Optional.empty(), true)) {
            ByteBuffer read = ByteBuffer.allocate(64 << 10);
            disk.device().read(0, read, Set.of(RequestFlag.COPY_ON_READ));
            assertArrayEquals(java.util.Arrays.copyOf(before, 64 << 10), read.array());
            List<Extent> status = disk.top().blockStatus(0, 64 << 10);
            assertEquals(1, status.size(), status.toString());
            assertEquals(Allocation.DATA, status.getFirst().allocation());
            assertEquals(64L << 10, status.getFirst().lengthBytes());
            assertEquals((64 << 10) - SUBCLUSTER, disk.copiedBytes(), "only the subclusters the clone lacked");
        }
        QemuTools.assertCheckClean(clone);
        assertArrayEquals(before, QemuTools.rawContent(clone, dir));
        String map = QemuTools.ok("qemu-img", "map", "--output=json", clone.toString());
        assertTrue(map.startsWith("[{ \"start\": 0, \"length\": 65536, \"depth\": 0,"), map);
    }
}
