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
    private static final int WRITES = 200;

    @TempDir
    Path dir;

    /**
     * A qcow2 template (data up to 7 MiB) and a clone whose clusters 0 and 2 hold a few subclusters
     * each, written with the template's bytes, and zero subclusters where the template reads zeroes:
     * the clone reads as the template does.
     */
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
                List.of("write -P 0x61 4096 2048", "write -P 0x61 131072 6144", "write -z 7341056 2048"));
        return clone;
    }

    /**
     * The point of subclusters: 4 KiB guest writes at 512-byte offsets into a clone read at most the
     * three 2 KiB subclusters they touch from the template (in one read, the span included), where
     * standard 64 KiB clusters read a whole cluster.
     */
    @Test
    void smallWritesReadLittleOfTheTemplate() throws Exception {
        Path template = dir.resolve("template.qcow2");
        QemuTools.createQcow2(template, Long.toString(SIZE));
        QemuTools.io(template, "qcow2", List.of("write -P 0x61 0 8M"));
        long seed = System.nanoTime();
        System.out.println("seed " + seed);
        long[] read = new long[2];
        for (int variant = 0; variant < 2; variant++) {
            Path clone = dir.resolve("small-" + variant + ".qcow2");
            String options = variant == 0 ? "extended_l2=off" : "extended_l2=on";
            QemuTools.createQcow2(clone, Long.toString(SIZE), "-o", options, "-b", "template.qcow2", "-F", "qcow2");
            java.util.Random random = new java.util.Random(seed);
            try (Disk disk = Disk.open("vda", clone, Optional.empty(), false)) {
                for (int i = 0; i < WRITES; i++) {
                    long offset = 512L * random.nextInt((int) (SIZE / 512) - 8);
                    disk.device().write(offset, ByteBuffer.wrap(new byte[4096]), Set.of());
                }
                read[variant] = disk.templateReadBytes();
            }
            QemuTools.assertCheckClean(clone);
        }
        System.out.println("template bytes read by " + WRITES + " 4 KiB writes: " + read[0] + " (64 KiB clusters), "
                + read[1] + " (subclusters)");
        assertTrue(read[1] <= WRITES * 3L * SUBCLUSTER, "at most three subclusters per write: " + read[1]);
        assertTrue(read[1] * 4 < read[0], read[1] + " vs " + read[0]);
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
        assertEqualsTemplate(clone);
    }

    private void assertEqualsTemplate(Path clone) throws Exception {
        QemuTools.Result compare = QemuTools.run(
                "qemu-img", "compare", dir.resolve("template.qcow2").toString(), clone.toString());
        assertEquals(0, compare.exitCode(), compare.stdout() + compare.stderr());
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
        assertEqualsTemplate(clone);
        String map = QemuTools.ok("qemu-img", "map", "--output=json", clone.toString());
        assertTrue(map.startsWith("[{ \"start\": 0, \"length\": 65536, \"depth\": 0,"), map);
    }
}
