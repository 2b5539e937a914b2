package io.siphon.blockjob;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.format.Image;
import io.siphon.format.ImageChain;
import io.siphon.format.OpenOptions;
import io.siphon.job.Job;
import io.siphon.job.JobEvent;
import io.siphon.job.JobStatus;
import io.siphon.testing.FaultyBlockDevice;
import io.siphon.testing.FaultyBlockDevice.Fault;
import io.siphon.testing.FaultyBlockDevice.Op;
import io.siphon.testing.QemuTools;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Faults injected under a real qcow2 overlay and over its real raw template: read errors of the
 * template (EIO), a full top (ENOSPC on its writes), short and slow requests, by offset and count.
 * They drive the pull's on-error policies (report, stop, ignore, and enospc, which QEMU tells apart:
 * it pauses on ENOSPC and reports anything else) and copy-on-read (a failed copy returns the error
 * to the guest and leaves the top as it was, as QEMU's does). After each, the guest's writes that
 * were acknowledged (flushed) read back, every other byte is the template's, and {@code qemu-img
 * check} finds the top clean.
 */
@Tag("interop")
class FaultInjectionTest {
    private static final Duration LONG = Duration.ofMinutes(2);
    private static final int SIZE = 4 << 20;
    private static final long BAD = 1 << 20;
    private static final long BAD_LENGTH = 1 << 20;
    private static final long GUEST = 3 << 20;

    @TempDir
    Path dir;

    private Path top;
    private byte[] expected;
    private final List<JobEvent> events = new CopyOnWriteArrayList<>();

    /** The fault-injecting devices of an open disk: over its template, and between its copier and its top. */
    private record Faulty(Disk disk, FaultyBlockDevice template, FaultyBlockDevice aboveTop) implements AutoCloseable {
        @Override
        public void close() throws IOException {
            disk.close();
        }
    }

    @BeforeEach
    void buildChain() throws Exception {
        long seed = System.nanoTime();
        System.out.println("seed " + seed);
        expected = new byte[SIZE];
        new Random(seed).nextBytes(expected);
        Files.write(dir.resolve("base.raw"), expected);
        QemuTools.createOverlay(dir.resolve("top.qcow2"), "base.raw", "raw");
        QemuTools.create(dir.resolve("top.qed"), "qed", SIZE, "base.raw", "raw");
    }

    private Faulty open(boolean copyOnRead) throws IOException {
        return open("qcow2", copyOnRead);
    }

    /** Opens the {@code format} overlay with a fault-injecting device over its template and one above its top. */
    private Faulty open(String format, boolean copyOnRead) throws IOException {
        top = dir.resolve("top." + format);
        FaultyBlockDevice[] aboveTop = new FaultyBlockDevice[1];
        ImageChain chain = ImageChain.open(top, Optional.of(format), OpenOptions.READ_WRITE);
        Disk disk = new Disk("vda", chain, copyOnRead, t -> aboveTop[0] = new FaultyBlockDevice(t));
        Image topImage = disk.top();
        FaultyBlockDevice template = new FaultyBlockDevice(topImage.backing().orElseThrow());
        topImage.attachBacking(Optional.of(template));
        return new Faulty(disk, template, aboveTop[0]);
    }

    /** Writes and flushes 16 guest blocks outside the faulty range; they are then acknowledged. */
    private void guestWrites(Disk disk) throws IOException {
        Random random = new Random(1);
        for (int i = 0; i < 16; i++) {
            byte[] block = new byte[4096];
            random.nextBytes(block);
            long offset = GUEST + i * 8192L;
            disk.device().write(offset, ByteBuffer.wrap(block), Set.of());
            disk.device().flush();
            System.arraycopy(block, 0, expected, (int) offset, block.length);
        }
    }

    private Job start(Disk disk, OnErrorPolicy policy) throws Exception {
        Job job = StreamJob.create(disk, StreamOptions.defaults().withOnError(policy));
        job.addListener(events::add);
        job.start();
        return job;
    }

    private JobEvent outcome() {
        return events.stream()
                .filter(e -> e instanceof JobEvent.Completed || e instanceof JobEvent.Failed)
                .reduce((a, b) -> b)
                .orElseThrow();
    }

    /** The disk reads as the template with the acknowledged writes, and so does the top once closed. */
    private void nothingLostNothingCorrupted(Faulty faulty) throws Exception {
        faulty.template().clear();
        faulty.aboveTop().clear();
        ByteBuffer all = ByteBuffer.allocate(SIZE);
        faulty.disk().top().read(0, all);
        assertArrayEquals(expected, all.array(), "the top, read through its chain");
        faulty.close();
        QemuTools.assertCheckClean(top);
        assertArrayEquals(expected, QemuTools.rawContent(top, dir), "the top as qemu-img reads it");
    }

    /**
     * Each policy against each kind of error: report fails, stop pauses, ignore goes on and fails at
     * the end, enospc pauses on a full disk only and fails on an I/O error. What paused completes once
     * the fault is gone and the job resumed.
     */
    @ParameterizedTest(name = "{0} on {1}")
    @CsvSource({
        "REPORT, EIO, failed",
        "REPORT, ENOSPC, failed",
        "STOP, EIO, paused",
        "STOP, ENOSPC, paused",
        "IGNORE, EIO, failed at the end",
        "IGNORE, ENOSPC, failed at the end",
        "ENOSPC, EIO, failed",
        "ENOSPC, ENOSPC, paused"
    })
    void policyMeetsError(OnErrorPolicy policy, Fault fault, String outcome) throws Exception {
        try (Faulty faulty = open(false)) {
            guestWrites(faulty.disk());
            // an I/O error comes from the template's disk; a full disk refuses the copy's write into the top
            FaultyBlockDevice.Rule rule = fault == Fault.EIO
                    ? faulty.template().inject(Fault.EIO, Set.of(Op.READ), BAD, BAD_LENGTH, FaultyBlockDevice.ALWAYS)
                    : faulty.aboveTop().inject(Fault.ENOSPC, Op.WRITES, BAD, BAD_LENGTH, FaultyBlockDevice.ALWAYS);
            Job job = start(faulty.disk(), policy);
            String wanted = fault == Fault.EIO ? "Input/output error" : "No space left on device";
            switch (outcome) {
                case "paused" -> {
                    assertTrue(job.awaitStatus(JobStatus.PAUSED, LONG), "the job paused");
                    assertTrue(
                            job.info().error().orElseThrow().contains(wanted),
                            job.info().error().orElseThrow());
                    assertEquals(BAD, job.info().progress().curBytes(), "it stopped at the bad range");
                    JobEvent.ErrorReported error = events.stream()
                            .filter(e -> e instanceof JobEvent.ErrorReported)
                            .map(e -> (JobEvent.ErrorReported) e)
                            .findFirst()
                            .orElseThrow();
                    assertTrue(error.stopped());
                    rule.disarm();
                    job.resume();
                    assertTrue(job.awaitEnd(LONG));
                    assertInstanceOf(JobEvent.Completed.class, outcome());
                    assertEquals(1, faulty.disk().images().size(), "the completed pull dropped the template");
                }
                case "failed" -> {
                    assertTrue(job.awaitEnd(LONG));
                    JobEvent.Failed failed = assertInstanceOf(JobEvent.Failed.class, outcome());
                    assertTrue(failed.message().contains(wanted), failed.message());
                    assertEquals(BAD, failed.curBytes(), "it stopped at the bad range");
                    assertEquals(2, faulty.disk().images().size(), "the template stays");
                }
                default -> {
                    assertTrue(job.awaitEnd(LONG));
                    JobEvent.Failed failed = assertInstanceOf(JobEvent.Failed.class, outcome());
                    assertEquals(SIZE, failed.curBytes(), "it went on to the end");
                    assertEquals(2, faulty.disk().images().size(), "the template stays");
                }
            }
            assertTrue(rule.fired() > 0);
            nothingLostNothingCorrupted(faulty);
        }
    }

    /**
     * Short requests: a template read that fills half its buffer without an error (a device that
     * breaks its contract), a write into the top that stores half and then fails. The pull may fail
     * or complete, but what the top holds is the template's data. (The short read once had the pull
     * write stale bytes of its previous chunk into the top and complete, dropping the template.)
     */
    @ParameterizedTest(name = "{0}: short {1}")
    @CsvSource({"qcow2, READ", "qcow2, WRITE", "qed, READ", "qed, WRITE"})
    void shortRequestsNeverCorruptTheTop(String format, Op op) throws Exception {
        try (Faulty faulty = open(format, false)) {
            guestWrites(faulty.disk());
            FaultyBlockDevice device = op == Op.READ ? faulty.template() : faulty.aboveTop();
            FaultyBlockDevice.Rule rule = device.inject(Fault.SHORT, Set.of(op), BAD, BAD_LENGTH, 3);
            Job job = start(faulty.disk(), OnErrorPolicy.REPORT);
            assertTrue(job.awaitEnd(LONG));
            assertTrue(rule.fired() > 0, "the fault was met");
            nothingLostNothingCorrupted(faulty);
        }
    }

    /** Slow template reads and slow writes into the top hold the pull up; it ends, nothing hangs. */
    @Test
    void slowRequestsOnlyDelay() throws Exception {
        try (Faulty faulty = open(false)) {
            faulty.template().slow(Duration.ofMillis(20), Set.of(Op.READ), 0, SIZE, 20);
            faulty.aboveTop().slow(Duration.ofMillis(20), EnumSet.of(Op.WRITE, Op.FLUSH), 0, SIZE, 20);
            Job job = start(faulty.disk(), OnErrorPolicy.REPORT);
            guestWrites(faulty.disk());
            assertTrue(job.awaitEnd(LONG), "the pull ended");
            assertInstanceOf(JobEvent.Completed.class, outcome());
            nothingLostNothingCorrupted(faulty);
        }
    }

    /**
     * Copy-on-read whose copy fails: the template's read errs (EIO), the top is full (ENOSPC), or a
     * request is short. The guest's read gets an error or the right data, never other data; the
     * top gains nothing wrong, and once the fault is gone the read copies as usual.
     */
    @ParameterizedTest(name = "{0} on {1}")
    @CsvSource({"EIO, READ", "ENOSPC, WRITE", "SHORT, READ", "SHORT, WRITE"})
    void aFailedCopyOnReadReturnsAnErrorOrTheRightData(Fault fault, Op op) throws Exception {
        try (Faulty faulty = open(true)) {
            guestWrites(faulty.disk());
            FaultyBlockDevice device = op == Op.READ ? faulty.template() : faulty.aboveTop();
            Set<Op> ops = op == Op.WRITE && fault != Fault.SHORT ? Op.WRITES : Set.of(op);
            FaultyBlockDevice.Rule rule = device.inject(fault, ops, BAD, 65536, 1);
            ByteBuffer got = ByteBuffer.allocate(4096);
            try {
                faulty.disk().device().read(BAD + 8192, got, Set.of());
                assertArrayEquals(slice(BAD + 8192, 4096), got.array(), "a copy-on-read returned other data");
            } catch (IOException e) {
                assertTrue(
                        e.getMessage().contains("injected") || e.getMessage().contains("short read"),
                        "the guest sees the device's error: " + e.getMessage());
            }
            assertEquals(1, rule.fired(), "the fault was met");
            ByteBuffer again = ByteBuffer.allocate(4096);
            faulty.disk().device().read(BAD + 8192, again, Set.of());
            assertArrayEquals(slice(BAD + 8192, 4096), again.array(), "once the fault is gone");
            assertTrue(
                    faulty.disk()
                            .top()
                            .blockStatus(BAD, 65536)
                            .getFirst()
                            .allocation()
                            .isAllocated(),
                    "the second read copied the cluster");
            nothingLostNothingCorrupted(faulty);
        }
    }

    /** An EIO copy-on-read leaves the cluster unallocated in the top, as a failed copy must. */
    @Test
    void aCopyOnReadThatCannotReadTheTemplateAllocatesNothing() throws Exception {
        try (Faulty faulty = open(true)) {
            faulty.template().inject(Fault.EIO, Set.of(Op.READ), BAD, 65536, 1);
            IOException e = assertThrows(
                    IOException.class, () -> faulty.disk().device().read(BAD, ByteBuffer.allocate(4096), Set.of()));
            assertTrue(e.getMessage().contains("Input/output error"), e.getMessage());
            assertFalse(faulty.disk()
                    .top()
                    .blockStatus(BAD, 65536)
                    .getFirst()
                    .allocation()
                    .isAllocated());
            nothingLostNothingCorrupted(faulty);
        }
    }

    private byte[] slice(long offset, int length) {
        return Arrays.copyOfRange(expected, (int) offset, (int) offset + length);
    }
}
