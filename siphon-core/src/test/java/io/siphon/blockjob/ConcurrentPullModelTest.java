package io.siphon.blockjob;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.siphon.block.BlockDevice;
import io.siphon.block.RequestFlag;
import io.siphon.job.Job;
import io.siphon.job.JobStateException;
import io.siphon.job.JobStatus;
import io.siphon.testing.QemuTools;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Guest writes, write-zeroes, discards, reads and copy-on-read reads race pulls that are paused,
 * resumed, re-speeded, cancelled and restarted, against an in-memory oracle of the disk. Each worker
 * owns every fourth 256 KiB region, so the oracle is exact without ordering workers; the pull spans
 * them all; every other seed's top has extended L2 entries (subclusters). Run more seeds with
 * -Dsiphon.pull.seeds=N.
 */
@Tag("interop")
class ConcurrentPullModelTest {
    private static final int WORKERS = 4;
    private static final int REGION = 256 * 1024;
    private static final int OPS_PER_WORKER = 300;

    @TempDir
    Path dir;

    @Test
    void randomIoRacingPullsEndsAtTheOracle() throws Exception {
        int seeds = Integer.getInteger("siphon.pull.seeds", 6);
        long first = Long.getLong("siphon.pull.seed", System.nanoTime());
        for (int i = 0; i < seeds; i++) {
            long seed = first + i;
            System.out.println("concurrent pull seed " + seed);
            Path run = Files.createDirectory(dir.resolve("seed-" + i));
            try {
                runOne(run, seed, i % 2 == 1);
            } catch (AssertionError | Exception e) {
                throw new AssertionError("seed " + seed + ": " + e.getMessage(), e);
            }
        }
    }

    private void runOne(Path run, long seed, boolean subclusters) throws Exception {
        Random random = new Random(seed);
        Chains chain = subclusters ? Chains.buildWithTopOptions(run, seed, "extended_l2=on") : Chains.build(run, seed);
        byte[] oracle = QemuTools.rawContent(chain.top, run);
        BitSet unknown = new BitSet(oracle.length);
        try (Disk disk = Disk.open("vda", chain.top, Optional.empty(), random.nextBoolean())) {
            AtomicBoolean workersDone = new AtomicBoolean();
            List<Future<?>> workers = new ArrayList<>();
            try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
                for (int w = 0; w < WORKERS; w++) {
                    long workerSeed = random.nextLong();
                    int worker = w;
                    workers.add(pool.submit(() -> {
                        guest(disk.device(), worker, new Random(workerSeed), oracle, unknown);
                        return null;
                    }));
                }
                Future<?> control = pool.submit(() -> {
                    controlPulls(disk, new Random(random.nextLong()), workersDone);
                    return null;
                });
                for (Future<?> worker : workers) {
                    worker.get();
                }
                workersDone.set(true);
                control.get();
            }
            assertEquals(1, disk.images().size(), "the pull completed");
            byte[] seen = new byte[oracle.length];
            disk.device().read(0, ByteBuffer.wrap(seen));
            compare(oracle, unknown, seen, "through the disk");
        }
        QemuTools.assertCheckClean(chain.top);
        assertNull(QemuTools.backingName(chain.top), "no backing after the pull");
        compare(oracle, unknown, QemuTools.rawContent(chain.top, run), "as qemu-img reads it");
    }

    private static void compare(byte[] oracle, BitSet unknown, byte[] seen, String how) {
        for (int i = 0; i < oracle.length; i++) {
            if (oracle[i] != seen[i] && !unknown.get(i)) {
                fail(how + ": byte " + i + " is " + seen[i] + ", the oracle says " + oracle[i]);
            }
        }
    }

    /** One guest: random requests inside its own regions, checking every read against the oracle. */
    private static void guest(BlockDevice device, int worker, Random random, byte[] oracle, BitSet unknown)
            throws Exception {
        int regions = oracle.length / REGION;
        for (int op = 0; op < OPS_PER_WORKER; op++) {
            int region = worker + WORKERS * random.nextInt(regions / WORKERS);
            int length = 512 * (1 + random.nextInt(REGION / 512 / 2));
            int offset = region * REGION + 512 * random.nextInt((REGION - length) / 512 + 1);
            switch (random.nextInt(6)) {
                case 0, 1 -> {
                    byte[] data = new byte[length];
                    random.nextBytes(data);
                    device.write(
                            offset, ByteBuffer.wrap(data), random.nextInt(8) == 0 ? Set.of(RequestFlag.FUA) : Set.of());
                    System.arraycopy(data, 0, oracle, offset, length);
                    synchronized (unknown) {
                        unknown.clear(offset, offset + length);
                    }
                }
                case 2 -> {
                    device.writeZeroes(offset, length, random.nextBoolean() ? Set.of(RequestFlag.MAY_UNMAP) : Set.of());
                    java.util.Arrays.fill(oracle, offset, offset + length, (byte) 0);
                    synchronized (unknown) {
                        unknown.clear(offset, offset + length);
                    }
                }
                case 3 -> {
                    device.discard(offset, length);
                    synchronized (unknown) {
                        unknown.set(offset, offset + length);
                    }
                }
                default -> {
                    boolean copy = random.nextBoolean();
                    ByteBuffer buffer = ByteBuffer.allocate(length);
                    device.read(offset, buffer, copy ? Set.of(RequestFlag.COPY_ON_READ) : Set.of());
                    byte[] seen = buffer.array();
                    for (int i = 0; i < length; i++) {
                        boolean isUnknown;
                        synchronized (unknown) {
                            isUnknown = unknown.get(offset + i);
                        }
                        if (!isUnknown && seen[i] != oracle[offset + i]) {
                            fail("worker " + worker + " op " + op + (copy ? " copy-on-read" : " read") + " at "
                                    + offset + "+" + length + ": byte " + (offset + i) + " is " + seen[i]
                                    + ", the oracle says " + oracle[offset + i]);
                        }
                    }
                    if (copy) {
                        // what a copy-on-read returned is now in the top: a discarded range is settled
                        synchronized (unknown) {
                            for (int i = 0; i < length; i++) {
                                if (unknown.get(offset + i)) {
                                    oracle[offset + i] = seen[i];
                                }
                            }
                            unknown.clear(offset, offset + length);
                        }
                    }
                }
            }
        }
    }

    /** Starts, steps, pauses, resumes, re-speeds and cancels pulls until one completes after the guests stop. */
    private static void controlPulls(Disk disk, Random random, AtomicBoolean workersDone) throws Exception {
        while (disk.images().size() > 1) {
            long speed = random.nextBoolean() ? 0 : (8L + random.nextInt(56)) << 20;
            Job job = StreamJob.create(
                    disk, StreamOptions.defaults().withSpeed(speed).withStepBytes(256 * 1024));
            if (random.nextInt(4) == 0) {
                for (int steps = random.nextInt(5); steps > 0 && job.status() != JobStatus.NULL; steps--) {
                    job.step();
                }
                if (job.status() != JobStatus.NULL) {
                    job.cancel(true);
                }
                continue;
            }
            job.start();
            while (job.status() != JobStatus.NULL) {
                Thread.sleep(random.nextInt(5));
                try {
                    switch (random.nextInt(workersDone.get() ? 2 : 8)) {
                        case 0 -> {
                            if (job.info().pausedByUser()) {
                                job.resume();
                            }
                        }
                        case 1 -> job.setSpeed(0);
                        case 2 -> job.pause();
                        case 3 -> job.setSpeed((1L + random.nextInt(64)) << 20);
                        case 4 -> {
                            job.cancel(random.nextBoolean());
                            job.awaitEnd(Duration.ofMinutes(1));
                        }
                        default -> {
                            // let it run
                        }
                    }
                } catch (JobStateException e) {
                    // the job ended between the status check and the verb: fine
                }
            }
            assertTrue(job.awaitEnd(Duration.ofMinutes(1)));
        }
    }
}
