package io.siphon.format.qed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.siphon.format.BackingReference;
import io.siphon.format.CreateOptions;
import io.siphon.format.Formats;
import io.siphon.format.ImageChain;
import io.siphon.format.OpenOptions;
import io.siphon.testing.QemuTools;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kills a child JVM with SIGKILL while it makes allocating writes to a QED image, many times, and
 * shows that each image opens (repairing itself), holds every write the child saw flushed, and
 * passes {@code qemu-img check}. {@code -Dsiphon.qed.crashIterations=N} runs more than the default
 * 20 iterations.
 */
class QedCrashTest {
    private static final long SIZE = 24L << 20;

    @TempDir
    Path dir;

    @Test
    void killedWriterLeavesARepairableImageWithEveryFlushedWrite() throws Exception {
        int iterations = Integer.getInteger("siphon.qed.crashIterations", 20);
        long seed = Long.getLong("siphon.qed.crashSeed", new Random().nextLong());
        System.out.println("QedCrashTest: " + iterations + " iterations, seed " + seed);
        Random random = new Random(seed);
        int killed = 0;
        int dirtyAtKill = 0;
        long repairedLeaks = 0;
        int leakyBeforeRepair = 0;
        for (int i = 0; i < iterations; i++) {
            Geometry geometry = Geometry.values()[i % Geometry.values().length];
            Path iterationDir = Files.createDirectory(dir.resolve("run" + i));
            Path image = iterationDir.resolve("disk.qed");
            byte[] base = create(image, geometry, random.nextLong());
            long writerSeed = random.nextLong();
            int flushesBeforeKill = 1 + random.nextInt(6);
            long delayMicros = random.nextInt(30_000);

            Process child = startWriter(image, writerSeed);
            AtomicInteger flushed = new AtomicInteger();
            Thread reader = Thread.ofVirtual().start(() -> readAcknowledgements(child, flushed));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (flushed.get() < flushesBeforeKill * QedCrashWriter.FLUSH_EVERY && child.isAlive()) {
                if (System.nanoTime() > deadline) {
                    child.destroyForcibly();
                    fail("writer made no progress in iteration " + i);
                }
                Thread.sleep(1);
            }
            TimeUnit.MICROSECONDS.sleep(delayMicros);
            child.destroyForcibly(); // SIGKILL
            child.waitFor();
            reader.join();
            if (child.exitValue() == 137) {
                killed++;
            }
            if ((featuresOnDisk(image) & QedHeader.F_NEED_CHECK) != 0) {
                dirtyAtKill++;
            }
            // Before any repair: QEMU may find leaked clusters (exit 3), never a corruption (exit 2).
            QemuTools.Result unrepaired = QemuTools.run("qemu-img", "check", image.toString());
            assertTrue(
                    unrepaired.exitCode() == 0 || unrepaired.exitCode() == 3,
                    "iteration " + i + " before repair: " + unrepaired);
            if (unrepaired.exitCode() == 3) {
                leakyBeforeRepair++;
            }
            int durable = flushed.get();
            System.out.printf(
                    "iteration %d: %s, killed after %d acknowledged writes (exit %d)%n",
                    i, geometry, durable, child.exitValue());
            repairedLeaks += verify(image, base, writerSeed, durable, i) / geometry.clusterSize;
            String check = QemuTools.ok("qemu-img", "check", image.toString());
            assertTrue(check.contains("No errors were found"), "iteration " + i + ": " + check);
        }
        System.out.printf(
                "QedCrashTest: %d iterations, %d killed mid-run, %d left NEED_CHECK set, %d had leaks (and no"
                        + " corruption) before repair, %d leaked clusters trimmed%n",
                iterations, killed, dirtyAtKill, leakyBeforeRepair, repairedLeaks);
        assertTrue(killed > iterations / 2, "most children must die by SIGKILL, not finish: " + killed);
        assertTrue(dirtyAtKill > 0, "some kills must land while NEED_CHECK is set");
    }

    /** Image geometries and chains the iterations cycle through. */
    enum Geometry {
        SMALL_TABLES(4096, 2, false),
        DEFAULT(65536, 4, false),
        SMALL_TABLES_OVER_RAW(4096, 2, true),
        DEFAULT_OVER_RAW(65536, 4, true);

        final long clusterSize;
        final long tableSize;
        final boolean rawBacking;

        Geometry(long clusterSize, long tableSize, boolean rawBacking) {
            this.clusterSize = clusterSize;
            this.tableSize = tableSize;
            this.rawBacking = rawBacking;
        }
    }

    /** Creates the image (and its raw backing); returns what the guest reads before any write. */
    private static byte[] create(Path image, Geometry geometry, long baseSeed) throws IOException {
        byte[] base = new byte[(int) SIZE];
        Optional<BackingReference> backing = Optional.empty();
        if (geometry.rawBacking) {
            new Random(baseSeed).nextBytes(base);
            Files.write(image.resolveSibling("base.raw"), base);
            backing = Optional.of(BackingReference.of("base.raw", "raw"));
        }
        Formats.byName("qed")
                .create(
                        image,
                        new CreateOptions(
                                SIZE,
                                backing,
                                Map.of(
                                        "cluster_size", Long.toString(geometry.clusterSize),
                                        "table_size", Long.toString(geometry.tableSize))));
        return base;
    }

    private static Process startWriter(Path image, long seed) throws IOException {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        return new ProcessBuilder(
                        java.toString(),
                        "-Xmx128m",
                        "-XX:TieredStopAtLevel=1",
                        "-cp",
                        System.getProperty("java.class.path"),
                        QedCrashWriter.class.getName(),
                        image.toString(),
                        Long.toString(seed))
                .redirectError(ProcessBuilder.Redirect.DISCARD)
                .start();
    }

    private static void readAcknowledgements(Process child, AtomicInteger flushed) {
        try (BufferedReader lines =
                new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = lines.readLine()) != null) {
                if (line.startsWith("flushed ")) {
                    flushed.set(Integer.parseInt(line.substring("flushed ".length())));
                }
            }
        } catch (IOException e) {
            // the pipe breaks when the child is killed: what was read so far counts
        }
    }

    /**
     * Opens the image read-write (which repairs it) and checks every write: acknowledged ones hold
     * their data; later ones hold, byte by byte, their data or what was there before. Returns the
     * bytes the repair trimmed off the end of the file.
     */
    private static long verify(Path image, byte[] base, long writerSeed, int durable, int iteration)
            throws IOException {
        long sizeBefore = Files.size(image);
        try (ImageChain chain = ImageChain.open(image, Optional.of("qed"), OpenOptions.READ_WRITE)) {
            List<QedCrashWriter.PlannedWrite> plan = QedCrashWriter.plan(writerSeed, SIZE);
            byte[] disk = GuestWorkload.readAll(chain.top());
            for (int w = 0; w < plan.size(); w++) {
                QedCrashWriter.PlannedWrite write = plan.get(w);
                byte[] data = write.data();
                for (int b = 0; b < data.length; b++) {
                    int at = (int) write.offsetBytes() + b;
                    boolean written = disk[at] == data[b];
                    if (!written && (w < durable || disk[at] != base[at])) {
                        fail(String.format(
                                "iteration %d: write %d (%s) byte %d reads %d; want %d%s",
                                iteration,
                                w,
                                w < durable ? "acknowledged" : "not acknowledged",
                                b,
                                disk[at],
                                data[b],
                                w < durable ? "" : " or " + base[at]));
                    }
                }
            }
            assertEquals(false, chain.top().info().dirty(), "repaired on open");
        }
        return Math.max(0, sizeBefore - Files.size(image));
    }

    private static long featuresOnDisk(Path image) throws IOException {
        byte[] header = new byte[QedHeader.BYTES];
        try (var in = Files.newInputStream(image)) {
            in.readNBytes(header, 0, header.length);
        }
        return ByteBuffer.wrap(header, 16, 8)
                .order(java.nio.ByteOrder.LITTLE_ENDIAN)
                .getLong();
    }
}
