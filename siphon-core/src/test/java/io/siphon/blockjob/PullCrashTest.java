package io.siphon.blockjob;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.siphon.job.Job;
import io.siphon.testing.KilledChild;
import io.siphon.testing.QemuTools;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A child JVM writes to a disk while pulling it and is SIGKILLed at a random moment, many times
 * (-Dsiphon.crash.iterations=N). After each kill: qemu-img check finds no corruption, every write
 * the child had flushed is there, and a new pull completes to the oracle's content.
 */
@Tag("interop")
class PullCrashTest {
    @TempDir
    Path dir;

    @Test
    void killedPullsLeaveConsistentImagesThatAnotherPullFinishes() throws Exception {
        int iterations = Integer.getInteger("siphon.crash.iterations", 24);
        long seed = Long.getLong("siphon.crash.seed", System.nanoTime());
        System.out.println("crash seed " + seed + ", " + iterations + " kills");
        Random random = new Random(seed);
        Chains chain = Chains.build(dir, seed);
        Path pristine = dir.resolve("pristine.qcow2");
        Files.copy(chain.top, pristine);
        byte[] initial = QemuTools.rawContent(chain.top, dir);
        int leaky = 0;
        for (int i = 0; i < iterations; i++) {
            Files.copy(pristine, chain.top, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            Path journal = dir.resolve("journal-" + i);
            long childSeed = random.nextLong();
            long speed = (4L + random.nextInt(28)) << 20;
            long killAfterMillis = random.nextInt(1500);
            String where = "iteration " + i + " (seed " + seed + ", child seed " + childSeed + ", kill after "
                    + killAfterMillis + " ms)";
            runAndKill(chain.top, journal, childSeed, speed, killAfterMillis);

            QemuTools.Result checked = QemuTools.run("qemu-img", "check", chain.top.toString());
            int check = checked.exitCode();
            assertTrue(check == 0 || check == 3, where + ": qemu-img check exit " + check + "\n" + checked);
            if (check == 3) {
                leaky++;
            }

            byte[] oracle = initial.clone();
            BitSet unknown = new BitSet(oracle.length);
            replay(journal, oracle, unknown);
            byte[] seen = new byte[oracle.length];
            try (Disk disk = Disk.open("vda", chain.top, Optional.empty(), false)) {
                disk.device().read(0, ByteBuffer.wrap(seen));
                compare(oracle, unknown, seen, where + ", after the kill");
                if (disk.images().size() > 1) {
                    Job job = StreamJob.create(disk, StreamOptions.defaults());
                    job.start();
                    assertTrue(job.awaitEnd(Duration.ofMinutes(2)), where);
                }
                disk.device().read(0, ByteBuffer.wrap(seen));
                compare(oracle, unknown, seen, where + ", after a new pull");
            }
            assertNull(QemuTools.backingName(chain.top), where);
            int finalCheck =
                    QemuTools.run("qemu-img", "check", chain.top.toString()).exitCode();
            assertTrue(finalCheck == 0 || finalCheck == 3, where + ": after the new pull, check exit " + finalCheck);
            compare(oracle, unknown, QemuTools.rawContent(chain.top, dir), where + ", as qemu-img reads it");
        }
        System.out.println(iterations + " kills, " + leaky + " left leaked clusters (no corruption)");
    }

    private static void runAndKill(Path image, Path journal, long childSeed, long speed, long killAfterMillis)
            throws Exception {
        KilledChild.runAndKill(
                PullCrashChild.class,
                List.of(image.toString(), journal.toString(), Long.toString(childSeed), Long.toString(speed)),
                PullCrashChild.READY,
                killAfterMillis);
    }

    /**
     * Applies the journal to the oracle. A write followed by a flush must be there; a write after
     * the last flush may or may not be, so its bytes become unknown.
     */
    private static void replay(Path journal, byte[] oracle, BitSet unknown) throws Exception {
        if (!Files.exists(journal)) {
            return;
        }
        List<long[]> pending = new ArrayList<>();
        for (String line : Files.readAllLines(journal, StandardCharsets.US_ASCII)) {
            String[] parts = line.split(" ");
            if (parts[0].equals("F")) {
                for (long[] write : pending) {
                    int offset = (int) write[0];
                    int length = (int) write[1];
                    System.arraycopy(PullCrashChild.data(write[2], length), 0, oracle, offset, length);
                    unknown.clear(offset, offset + length);
                }
                pending.clear();
            } else if (parts.length == 4) {
                pending.add(new long[] {Long.parseLong(parts[1]), Long.parseLong(parts[2]), Long.parseLong(parts[3])});
            }
        }
        for (long[] write : pending) {
            unknown.set((int) write[0], (int) (write[0] + write[1]));
        }
    }

    private static void compare(byte[] oracle, BitSet unknown, byte[] seen, String where) {
        for (int i = 0; i < oracle.length; i++) {
            if (oracle[i] != seen[i] && !unknown.get(i)) {
                fail(where + ": byte " + i + " is " + seen[i] + ", a flushed write or the chain says " + oracle[i]);
            }
        }
    }
}
