package io.siphon.blockjob;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.job.Job;
import io.siphon.testing.QemuTools;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A guest-paced pull's thread runs at the nicest scheduler priority, so that it takes only the CPU
 * the guest leaves; a pull at a fixed limit keeps normal priority. Read back from the kernel's
 * view of this process's threads.
 */
@Tag("interop")
class PacedPullNicenessTest {
    private static final long SIZE = 8L << 20;

    @TempDir
    Path dir;

    @Test
    void aGuestPacedPullRunsNicestAndALimitedOneDoesNot() throws Exception {
        Path base = dir.resolve("base.qcow2");
        QemuTools.create(base, "qcow2", SIZE, null, null);
        QemuTools.io(base, "qcow2", List.of("write -P 7 0 8M"));
        Path pacedTop = dir.resolve("paced.qcow2");
        Path limitedTop = dir.resolve("limited.qcow2");
        QemuTools.createOverlay(pacedTop, "base.qcow2", "qcow2");
        QemuTools.createOverlay(limitedTop, "base.qcow2", "qcow2");
        // slow enough that both are still running while their threads are looked at
        StreamOptions slow = StreamOptions.defaults().withSpeed(64 * 1024).withStepBytes(64 * 1024);
        try (Disk paced = Disk.open("paced", pacedTop, Optional.empty(), false);
                Disk limited = Disk.open("limited", limitedTop, Optional.empty(), false)) {
            Job pacedJob = StreamJob.create(paced, slow.withPace(StreamOptions.Pace.GUEST));
            Job limitedJob = StreamJob.create(limited, slow);
            pacedJob.start();
            limitedJob.start();
            try {
                assertEquals(19, awaitNice("job-paced", 19), "the guest-paced pull's thread");
                long deadline = System.nanoTime() + 30_000_000_000L;
                while (limitedJob.progress().curBytes() == 0 && System.nanoTime() < deadline) {
                    Thread.onSpinWait();
                }
                assertTrue(limitedJob.progress().curBytes() > 0, "the limited pull runs");
                assertEquals(0, niceOf("job-limited").orElseThrow(), "the limited pull's thread");
            } finally {
                pacedJob.cancel(true);
                limitedJob.cancel(true);
            }
        }
        QemuTools.assertCheckClean(pacedTop);
    }

    /** Waits (up to 30 s) for the thread named {@code name} to have niceness {@code wanted}; its last niceness. */
    private static int awaitNice(String name, int wanted) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + 30_000_000_000L;
        OptionalInt nice;
        do {
            nice = niceOf(name);
            if (nice.orElse(-100) == wanted) {
                return wanted;
            }
            Thread.sleep(10);
        } while (System.nanoTime() < deadline);
        return nice.orElse(-100);
    }

    /** The niceness of this process's thread whose kernel name is {@code name}, if one has it. */
    private static OptionalInt niceOf(String name) throws IOException {
        try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
            for (Path task : tasks.toList()) {
                try {
                    if (Files.readString(task.resolve("comm")).strip().equals(name)) {
                        String stat = Files.readString(task.resolve("stat"));
                        // after "(comm)": state is field 3, nice field 19
                        String[] fields =
                                stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                        return OptionalInt.of(Integer.parseInt(fields[19 - 3]));
                    }
                } catch (java.nio.file.NoSuchFileException ended) {
                    // a thread that ended while listed
                }
            }
        }
        return OptionalInt.empty();
    }
}
