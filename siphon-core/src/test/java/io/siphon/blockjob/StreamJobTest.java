package io.siphon.blockjob;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.job.Job;
import io.siphon.job.JobEvent;
import io.siphon.job.JobStateException;
import io.siphon.job.JobStatus;
import io.siphon.job.Progress;
import io.siphon.testing.QemuTools;
import io.siphon.util.FakeTimeSource;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Pulls of qcow2 chains built by qemu-img, checked with qemu-img. */
@Tag("interop")
class StreamJobTest {
    private static final Duration LONG = Duration.ofMinutes(2);

    @TempDir
    Path dir;

    private Chains chain;
    private byte[] before;
    private final List<JobEvent> events = new CopyOnWriteArrayList<>();

    @BeforeEach
    void buildChain() throws Exception {
        long seed = System.nanoTime();
        System.out.println("chain seed " + seed);
        chain = Chains.build(dir, seed);
        before = QemuTools.rawContent(chain.top, dir);
    }

    private Job pull(Disk disk, StreamOptions options) throws Exception {
        Job job = StreamJob.create(disk, options);
        job.addListener(events::add);
        job.start();
        assertTrue(job.awaitEnd(LONG), "pull did not end");
        return job;
    }

    private JobEvent outcome() {
        return events.stream()
                .filter(e -> !(e instanceof JobEvent.StatusChanged))
                .reduce((a, b) -> b)
                .orElseThrow();
    }

    @Test
    void fullPullLeavesTheSameContentWithoutBacking() throws Exception {
        List<String> order = new CopyOnWriteArrayList<>();
        List<List<Path>> dropped = new ArrayList<>();
        try (Disk disk = Disk.open("vda", chain.top, Optional.empty(), false)) {
            disk.onImagesDropped((device, images) -> {
                dropped.add(images);
                order.add("dropped " + device);
            });
            Job job = StreamJob.create(disk, StreamOptions.defaults());
            job.addListener(e -> order.add(e.getClass().getSimpleName()));
            job.addListener(events::add);
            job.start();
            assertTrue(job.awaitEnd(LONG));
            assertEquals(1, disk.images().size());
        }
        JobEvent completed = assertInstanceOf(JobEvent.Completed.class, outcome());
        assertEquals(Chains.SIZE, completed.curBytes());
        assertEquals(Chains.SIZE, completed.endBytes());
        assertEquals("stream", completed.jobType());
        assertEquals("vda", completed.device());
        assertEquals(List.of(List.of(chain.mid, chain.base)), dropped);
        assertTrue(order.indexOf("dropped vda") < order.indexOf("Completed"), "hook before COMPLETED: " + order);
        assertNull(QemuTools.backingName(chain.top));
        assertArrayEquals(before, QemuTools.rawContent(chain.top, dir));
        QemuTools.assertCheckClean(chain.top);
    }

    /**
     * A pull into a clone with an internal snapshot copies the L2 tables it shares with the snapshot
     * before filling them: the clone reads as before without its backing, qemu-img check is clean,
     * and the snapshot still holds its own data (qemu-img snapshot -a brings it back).
     */
    @Test
    void pullIntoACloneWithASnapshotLeavesTheSnapshotsData() throws Exception {
        Path template = dir.resolve("snap-template.qcow2");
        Path clone = dir.resolve("snap-clone.qcow2");
        QemuTools.createQcow2(template, "4M");
        QemuTools.io(template, "qcow2", List.of("write -P 0x61 0 4M"));
        QemuTools.createQcow2(clone, "4M", "-o", "cluster_size=4k", "-b", "snap-template.qcow2", "-F", "qcow2");
        QemuTools.io(clone, "qcow2", List.of("write -P 0x62 64k 64k", "write -P 0x63 3M 4k"));
        QemuTools.ok("qemu-img", "snapshot", "-c", "kept", clone.toString());
        QemuTools.io(clone, "qcow2", List.of("write -P 0x64 3M 4k"));
        byte[] content = QemuTools.rawContent(clone, dir);
        try (Disk disk = Disk.open("vda", clone, Optional.empty(), false)) {
            pull(disk, StreamOptions.defaults());
            assertEquals(1, disk.images().size());
        }
        assertNull(QemuTools.backingName(clone));
        QemuTools.assertCheckClean(clone);
        assertArrayEquals(content, QemuTools.rawContent(clone, dir));
        QemuTools.ok("qemu-img", "snapshot", "-a", "kept", clone.toString());
        QemuTools.assertCheckClean(clone);
        // the snapshot's own clusters; without the backing, what it left unallocated reads zeroes
        QemuTools.io(clone, "qcow2", List.of("read -P 0x62 64k 64k", "read -P 0x63 3M 4k", "read -P 0 0 64k"));
    }

    /** A full pull copies a raw template's data and none of its holes (they read as zeroes anyway). */
    @Test
    void fullPullOfASparseRawTemplateCopiesOnlyItsData() throws Exception {
        Path template = dir.resolve("template.raw");
        Path clone = dir.resolve("clone.qcow2");
        try (var file = new java.io.RandomAccessFile(template.toFile(), "rw")) {
            file.setLength(64L << 20); // all hole (qemu-img create would allocate the first block)
        }
        QemuTools.io(template, "raw", List.of("write -P 0x11 1M 1M", "write -P 0x22 40M 64k"));
        QemuTools.create(clone, "qcow2", 64L << 20, "template.raw", "raw");
        byte[] expected = QemuTools.rawContent(clone, dir);
        try (Disk disk = Disk.open("vda", clone, Optional.empty(), false)) {
            Job job = pull(disk, StreamOptions.defaults());
            assertEquals((1L << 20) + (64 << 10), job.progress().copiedBytes(), "only the data was copied");
        }
        assertInstanceOf(JobEvent.Completed.class, outcome());
        assertNull(QemuTools.backingName(clone));
        assertArrayEquals(expected, QemuTools.rawContent(clone, dir));
        QemuTools.assertCheckClean(clone);
    }

    @Test
    void partialPullNamesTheBaseRelativeWhenAsked() throws Exception {
        try (Disk disk = Disk.open("vda", chain.top, Optional.empty(), false)) {
            pull(disk, StreamOptions.defaults().withBase(chain.base, true));
            assertEquals(2, disk.images().size());
        }
        assertInstanceOf(JobEvent.Completed.class, outcome());
        assertEquals("base.qcow2", QemuTools.backingName(chain.top));
        assertArrayEquals(before, QemuTools.rawContent(chain.top, dir));
        QemuTools.assertCheckClean(chain.top);
    }

    @Test
    void partialPullNamesTheBaseAbsoluteByDefault() throws Exception {
        try (Disk disk = Disk.open("vda", chain.top, Optional.empty(), false)) {
            Job job = StreamJob.create(disk, StreamOptions.defaults().withBase(chain.mid, false));
            job.addListener(events::add);
            job.start();
            assertTrue(job.awaitEnd(LONG));
        }
        assertEquals(chain.mid.toAbsolutePath().toString(), QemuTools.backingName(chain.top));
        assertArrayEquals(before, QemuTools.rawContent(chain.top, dir));
    }

    @Test
    void aBaseOutsideTheChainIsRefused() throws Exception {
        Path stranger = dir.resolve("stranger.qcow2");
        QemuTools.create(stranger, "qcow2", Chains.SIZE, null, "qcow2");
        try (Disk disk = Disk.open("vda", chain.top, Optional.empty(), false)) {
            IllegalArgumentException e = assertThrows(
                    IllegalArgumentException.class,
                    () -> StreamJob.create(disk, StreamOptions.defaults().withBase(stranger, false)));
            assertTrue(e.getMessage().contains("stranger.qcow2"), e.getMessage());
            assertTrue(disk.job().isEmpty());
        }
    }

    @Test
    void noDescriptorToTheDroppedImagesRemains() throws Exception {
        try (Disk disk = Disk.open("vda", chain.top, Optional.empty(), false)) {
            assertTrue(openFiles().contains(chain.base.toRealPath()), "the chain is open: " + openFiles());
            pull(disk, StreamOptions.defaults());
            List<Path> open = openFiles();
            assertFalse(open.contains(chain.base.toRealPath()), "base still open: " + open);
            assertFalse(open.contains(chain.mid.toRealPath()), "mid still open: " + open);
            assertTrue(open.contains(chain.top.toRealPath()));
        }
    }

    private static List<Path> openFiles() throws IOException {
        List<Path> targets = new ArrayList<>();
        try (var fds = Files.list(Path.of("/proc/self/fd"))) {
            for (Path fd : fds.toList()) {
                try {
                    targets.add(Files.readSymbolicLink(fd));
                } catch (IOException e) {
                    // the descriptor closed while listing
                }
            }
        }
        return targets;
    }

    @Test
    void stepsCopyOneIncrementEachAndTheLastCompletes() throws Exception {
        try (Disk disk = Disk.open("vda", chain.top, Optional.empty(), false)) {
            Job job = StreamJob.create(disk, StreamOptions.defaults().withStepBytes(1 << 20));
            job.addListener(events::add);
            IllegalStateException second =
                    assertThrows(IllegalStateException.class, () -> StreamJob.create(disk, StreamOptions.defaults()));
            assertTrue(second.getMessage().contains("already has a stream job"), second.getMessage());
            Progress first = job.step();
            assertTrue(first.copiedBytes() >= 1 << 20 && first.copiedBytes() < 3 << 20, "first step " + first);
            JobStateException background = assertThrows(JobStateException.class, job::start);
            assertTrue(background.getMessage().contains("step by step"), background.getMessage());
            long previousCur = first.curBytes();
            int steps = 1;
            while (job.status() != JobStatus.NULL) {
                Progress next = job.step();
                assertTrue(next.curBytes() >= previousCur, "cur never decreases");
                previousCur = next.curBytes();
                steps++;
            }
            assertTrue(steps > 2, "several increments: " + steps);
            assertTrue(disk.job().isEmpty(), "the slot is free after the job");
        }
        assertInstanceOf(JobEvent.Completed.class, outcome());
        assertNull(QemuTools.backingName(chain.top));
        assertArrayEquals(before, QemuTools.rawContent(chain.top, dir));
    }

    @Test
    void cancelKeepsTheLinkAndANewPullFinishesTheRest() throws Exception {
        Path twin = dir.resolve("twin.qcow2");
        Files.copy(chain.top, twin);
        long firstCopied;
        try (Disk disk = Disk.open("vda", chain.top, Optional.empty(), false)) {
            Job job = StreamJob.create(disk, StreamOptions.defaults());
            job.addListener(events::add);
            firstCopied = job.step().copiedBytes();
            job.cancel(true);
            assertInstanceOf(JobEvent.Cancelled.class, outcome());
            assertEquals(3, disk.images().size());
        }
        assertEquals("mid.qcow2", QemuTools.backingName(chain.top));
        assertArrayEquals(before, QemuTools.rawContent(chain.top, dir));
        long restCopied;
        try (Disk disk = Disk.open("vda", chain.top, Optional.empty(), false)) {
            restCopied = pull(disk, StreamOptions.defaults()).progress().copiedBytes();
        }
        long oneShot;
        try (Disk disk = Disk.open("vdb", twin, Optional.empty(), false)) {
            oneShot = pull(disk, StreamOptions.defaults()).progress().copiedBytes();
        }
        assertTrue(firstCopied > 0);
        assertEquals(oneShot, firstCopied + restCopied, "the second pull copied only what the first had not");
        assertNull(QemuTools.backingName(chain.top));
        assertArrayEquals(before, QemuTools.rawContent(chain.top, dir));
        QemuTools.assertCheckClean(chain.top);
    }

    /**
     * At 512 KiB/s each 64 KiB chunk leaves a debt the fake clock repays in exactly 125 ms: with the
     * clock held still one chunk is copied, each tick copies exactly one more (8 fake seconds move
     * 4 MiB), and going unlimited finishes the pull without the clock moving.
     */
    @Test
    void speedLimitFollowsTheClockAndChangesLive() throws Exception {
        FakeTimeSource clock = new FakeTimeSource();
        long rate = 512 * 1024;
        long chunk = 64 * 1024;
        Path dense = dir.resolve("dense.qcow2");
        Path clone = dir.resolve("clone.qcow2");
        QemuTools.create(dense, "qcow2", Chains.SIZE, null, "qcow2");
        QemuTools.write(dense, "qcow2", 0x5a, 0, Chains.SIZE);
        QemuTools.create(clone, "qcow2", Chains.SIZE, "dense.qcow2", "qcow2");
        before = QemuTools.rawContent(clone, dir);
        try (Disk disk = Disk.open("vda", clone, Optional.empty(), false)) {
            Job job = StreamJob.create(
                    disk, StreamOptions.defaults().withSpeed(rate).withChunkBytes(chunk), clock);
            job.addListener(events::add);
            job.start();
            awaitCopied(job, chunk);
            for (int tick = 1; tick <= 64; tick++) {
                clock.advance(125_000_000L);
                awaitCopied(job, (tick + 1) * chunk);
            }
            Thread.sleep(50);
            assertEquals(65 * chunk, job.progress().copiedBytes(), "nothing is copied before the clock allows it");
            assertEquals(rate, job.info().speedBytesPerSecond());
            job.setSpeed(0);
            assertTrue(job.awaitEnd(LONG), "unlimited, the pull ends without the clock moving");
        }
        assertInstanceOf(JobEvent.Completed.class, outcome());
        assertArrayEquals(before, QemuTools.rawContent(clone, dir));
    }

    /** Waits until the job has copied {@code expected} bytes; more would be a bug the caller checks. */
    private static void awaitCopied(Job job, long expected) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofMinutes(1).toNanos();
        while (job.progress().copiedBytes() < expected) {
            assertTrue(System.nanoTime() < deadline, "stuck at " + job.progress() + ", expected " + expected);
            Thread.sleep(1);
        }
        assertEquals(expected, job.progress().copiedBytes());
    }
}
