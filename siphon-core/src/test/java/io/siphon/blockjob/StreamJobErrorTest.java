package io.siphon.blockjob;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.format.Image;
import io.siphon.job.Job;
import io.siphon.job.JobEvent;
import io.siphon.job.JobStatus;
import io.siphon.testing.DamagedImages;
import io.siphon.testing.FaultyBlockDevice;
import io.siphon.testing.QemuTools;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The on-error policies, with read errors injected between the top and its backing. */
@Tag("interop")
class StreamJobErrorTest {
    private static final Duration LONG = Duration.ofMinutes(2);
    private static final long BAD_OFFSET = 8L << 20;

    @TempDir
    Path dir;

    private Path base;
    private Path top;
    private byte[] before;
    private final List<JobEvent> events = new CopyOnWriteArrayList<>();

    @BeforeEach
    void buildChain() throws Exception {
        base = dir.resolve("base.qcow2");
        top = dir.resolve("top.qcow2");
        QemuTools.create(base, "qcow2", 16L << 20, null, "qcow2");
        QemuTools.write(base, "qcow2", 0x33, 0, 16L << 20);
        QemuTools.create(top, "qcow2", 16L << 20, "base.qcow2", "qcow2");
        before = QemuTools.rawContent(top, dir);
    }

    /** Fails reads that touch [8 MiB, 9 MiB) until disarmed, as a failing disk under the backing would. */
    private FaultyBlockDevice.Rule injectFaults(Disk disk) {
        Image topImage = disk.top();
        FaultyBlockDevice faulty = new FaultyBlockDevice(topImage.backing().orElseThrow());
        topImage.attachBacking(Optional.of(faulty));
        return faulty.inject(
                FaultyBlockDevice.Fault.EIO,
                Set.of(FaultyBlockDevice.Op.READ),
                BAD_OFFSET,
                1 << 20,
                FaultyBlockDevice.ALWAYS);
    }

    private Job start(Disk disk, OnErrorPolicy policy) throws Exception {
        Job job = StreamJob.create(disk, StreamOptions.defaults().withOnError(policy));
        job.addListener(events::add);
        job.start();
        return job;
    }

    private List<JobEvent.ErrorReported> errors() {
        return events.stream()
                .filter(e -> e instanceof JobEvent.ErrorReported)
                .map(e -> (JobEvent.ErrorReported) e)
                .toList();
    }

    private JobEvent outcome() {
        return events.stream()
                .filter(e -> e instanceof JobEvent.Completed
                        || e instanceof JobEvent.Failed
                        || e instanceof JobEvent.Cancelled)
                .reduce((a, b) -> b)
                .orElseThrow();
    }

    @Test
    void reportFailsTheJobAndKeepsTheLink() throws Exception {
        try (Disk disk = Disk.open("vda", top, Optional.empty(), false)) {
            injectFaults(disk);
            Job job = start(disk, OnErrorPolicy.REPORT);
            assertTrue(job.awaitEnd(LONG));
            JobEvent.Failed failed = assertInstanceOf(JobEvent.Failed.class, outcome());
            assertTrue(failed.message().contains("injected read error"), failed.message());
            assertEquals(BAD_OFFSET, failed.curBytes(), "it stopped at the bad range");
            assertEquals(2, disk.images().size());
        }
        assertEquals("base.qcow2", QemuTools.backingName(top));
        assertArrayEquals(before, QemuTools.rawContent(top, dir));
        QemuTools.assertCheckClean(top);
    }

    @Test
    void stopPausesInTheErrorStateAndResumeRetries() throws Exception {
        try (Disk disk = Disk.open("vda", top, Optional.empty(), false)) {
            FaultyBlockDevice.Rule faults = injectFaults(disk);
            Job job = start(disk, OnErrorPolicy.STOP);
            assertTrue(job.awaitStatus(JobStatus.PAUSED, LONG));
            assertTrue(job.info().error().orElseThrow().contains("injected read error"));
            assertEquals(BAD_OFFSET, job.info().progress().curBytes());
            assertTrue(errors().getFirst().stopped());
            faults.disarm();
            job.resume();
            assertTrue(job.awaitEnd(LONG));
            assertInstanceOf(JobEvent.Completed.class, outcome());
        }
        assertEquals(null, QemuTools.backingName(top));
        assertArrayEquals(before, QemuTools.rawContent(top, dir));
        QemuTools.assertCheckClean(top);
    }

    /** A block status query that fails (a corrupt table in the template) follows the policy too. */
    @Test
    void statusErrorsFollowThePolicy() throws Exception {
        DamagedImages.l2EntryPastEnd(base, BAD_OFFSET); // a corrupt template
        try (Disk disk = Disk.open("vda", top, Optional.empty(), false)) {
            Job job = start(disk, OnErrorPolicy.STOP);
            assertTrue(job.awaitStatus(JobStatus.PAUSED, LONG), "stop pauses on a status error");
            assertTrue(
                    job.info().error().orElseThrow().contains("L2 entry"),
                    job.info().error().orElseThrow());
            job.cancel(true);
            assertInstanceOf(JobEvent.Cancelled.class, outcome());
            events.clear();
            Job ignoring = start(disk, OnErrorPolicy.IGNORE);
            assertTrue(ignoring.awaitEnd(LONG));
            JobEvent.Failed failed = assertInstanceOf(JobEvent.Failed.class, outcome());
            assertEquals(16L << 20, failed.curBytes(), "ignore went on to the end");
            assertTrue(ignoring.progress().copiedBytes() > 0, "what lies past the bad table entry was copied");
        }
        assertEquals("base.qcow2", QemuTools.backingName(top));
        QemuTools.assertCheckClean(top);
    }

    @Test
    void ignoreGoesOnThenFailsWithoutDroppingTheLink() throws Exception {
        long copied;
        try (Disk disk = Disk.open("vda", top, Optional.empty(), false)) {
            injectFaults(disk);
            Job job = start(disk, OnErrorPolicy.IGNORE);
            assertTrue(job.awaitEnd(LONG));
            copied = job.progress().copiedBytes();
            JobEvent.Failed failed = assertInstanceOf(JobEvent.Failed.class, outcome());
            assertEquals(16L << 20, failed.curBytes(), "it went on to the end");
            assertTrue(failed.message().contains("not copied"), failed.message());
            assertFalse(errors().isEmpty());
            assertFalse(errors().getFirst().stopped());
        }
        assertEquals(15L << 20, copied, "everything but the bad MiB was copied");
        assertEquals("base.qcow2", QemuTools.backingName(top));
        assertArrayEquals(before, QemuTools.rawContent(top, dir));
        QemuTools.assertCheckClean(top);
    }
}
