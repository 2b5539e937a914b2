package io.siphon.blockjob;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.block.Allocation;
import io.siphon.job.Job;
import io.siphon.job.Progress;
import io.siphon.testing.QemuTools;
import io.siphon.util.TimeSource;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A pull with a prefetch plan copies the plan's ranges first, in its order, then the rest. */
@Tag("interop")
class PrefetchPullTest {
    private static final long CLUSTER = 64 * 1024;
    private static final long SIZE = 8L << 20;

    @TempDir
    Path dir;

    @Test
    void thePlansRangesAreCopiedFirstInTheirOrderThenTheRestInOffsetOrder() throws Exception {
        Path base = dir.resolve("base.qcow2");
        Path top = dir.resolve("top.qcow2");
        QemuTools.create(base, "qcow2", SIZE, null, null);
        QemuTools.io(base, "qcow2", List.of("write -P 7 0 4M", "write -P 9 4M 4M"));
        QemuTools.createOverlay(top, "base.qcow2", "qcow2");
        List<Long> hot = List.of(6L << 20, 1L << 20, (3L << 20) + CLUSTER, SIZE + CLUSTER);
        PrefetchPlan plan = PrefetchPlan.of(CLUSTER, hot);
        try (Disk disk = Disk.open("vda", top, Optional.empty(), false)) {
            Job job = StreamJob.create(disk, StreamOptions.defaults().withStepBytes(CLUSTER), plan, TimeSource.SYSTEM);
            assertEquals(PrefetchPlan.Phase.PROFILE, plan.phase());
            job.step();
            assertEquals(List.of(6L << 20), allocated(disk), "the hottest cluster first, alone");
            job.step();
            assertEquals(List.of(1L << 20, 6L << 20), allocated(disk));
            Progress third = job.step();
            assertEquals(List.of(1L << 20, (3L << 20) + CLUSTER, 6L << 20), allocated(disk));
            assertEquals(3 * CLUSTER, third.copiedBytes());
            assertEquals(SIZE + 3 * CLUSTER, third.endBytes(), "the offset walk passes the prefetched clusters again");
            Progress last;
            do {
                last = job.step();
            } while (!last.isDone());
            assertEquals(PrefetchPlan.Phase.OFFSET, plan.phase());
            assertEquals(last.endBytes(), last.curBytes());
            assertEquals(SIZE, last.copiedBytes(), "each cluster copied once; a range past the end skipped");
            assertEquals(1, disk.images().size());
        }
        assertFalse(QemuTools.infoJson(top).contains("backing-filename"), "the link is gone");
        QemuTools.assertSameContent(top, base);
        QemuTools.assertCheckClean(top);
    }

    @Test
    void withoutAPlanThePullIsInOffsetOrderFromTheStart() {
        PrefetchPlan none = PrefetchPlan.none();
        assertEquals(PrefetchPlan.Phase.OFFSET, none.phase());
        assertEquals(0, none.size());
        assertTrue(!none.hasNext());
    }

    /** The cluster offsets the top holds. */
    private static List<Long> allocated(Disk disk) throws Exception {
        return disk.top().blockStatus(0, SIZE).stream()
                .filter(e -> e.allocation() != Allocation.UNALLOCATED)
                .flatMap(e -> java.util.stream.LongStream.iterate(
                                e.offsetBytes(), o -> o < e.endBytes(), o -> o + CLUSTER)
                        .boxed())
                .toList();
    }
}
