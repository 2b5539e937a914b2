package io.siphon.bench;

import io.siphon.block.filter.ThrottleFilter;
import io.siphon.blockjob.Disk;
import io.siphon.blockjob.StreamJob;
import io.siphon.blockjob.StreamOptions;
import io.siphon.job.Job;
import io.siphon.util.TimeSource;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Siphon's side of {@code scripts/pull.sh}, one pull per process:
 *
 * <pre>
 *   pull  IMAGE [CHUNK_BYTES]   full pull, unlimited; prints "ms=&lt;elapsed&gt; copied=&lt;bytes&gt;"
 *   rate  IMAGE BYTES_PER_S S GUEST_BYTES_PER_S
 *                               pull at a limit for S seconds while 4 guest threads read the disk
 *                               (together at most GUEST_BYTES_PER_S, 0 = as fast as they can);
 *                               prints "rate=&lt;job's own copied bytes per second&gt; error_pct=&lt;..&gt;"
 * </pre>
 */
public final class PullBench {
    private PullBench() {}

    public static void main(String[] args) throws Exception {
        Path image = Path.of(args[1]);
        switch (args[0]) {
            case "pull" -> pull(image, args.length > 2 ? Long.parseLong(args[2]) : StreamOptions.DEFAULT_CHUNK_BYTES);
            case "rate" -> rate(image, Long.parseLong(args[2]), Integer.parseInt(args[3]), Long.parseLong(args[4]));
            default -> throw new IllegalArgumentException("unknown mode " + args[0]);
        }
    }

    /** Timed from the job's start to its end, as QEMU's side is timed from block-stream to the event. */
    static void pull(Path image, long chunkBytes) throws Exception {
        try (Disk disk = Disk.open("bench", image, Optional.empty(), false)) {
            long start = System.nanoTime();
            Job job = StreamJob.create(disk, StreamOptions.defaults().withChunkBytes(chunkBytes));
            job.start();
            job.awaitEnd(Duration.ofHours(1));
            long elapsed = System.nanoTime() - start;
            System.out.printf(
                    "ms=%d copied=%d%n", elapsed / 1_000_000, job.progress().copiedBytes());
        }
    }

    static void rate(Path image, long bytesPerSecond, int seconds, long guestBytesPerSecond) throws Exception {
        try (Disk disk = Disk.open("bench", image, Optional.empty(), false)) {
            ThrottleFilter guestDisk = new ThrottleFilter(disk.device(), TimeSource.SYSTEM, guestBytesPerSecond);
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong guestBytes = new AtomicLong();
            Thread[] guests = new Thread[4];
            for (int g = 0; g < guests.length; g++) {
                long seed = g;
                guests[g] = Thread.ofVirtual().start(() -> {
                    Random random = new Random(seed);
                    ByteBuffer buffer = ByteBuffer.allocateDirect(256 * 1024);
                    long blocks = guestDisk.sizeBytes() / buffer.capacity();
                    try {
                        while (!stop.get()) {
                            guestDisk.read(random.nextLong(blocks) * buffer.capacity(), buffer.clear());
                            guestBytes.addAndGet(buffer.capacity());
                        }
                    } catch (Exception e) {
                        throw new RuntimeException(e);
                    }
                });
            }
            Job job = StreamJob.create(disk, StreamOptions.defaults().withSpeed(bytesPerSecond));
            job.start();
            long start = System.nanoTime();
            long startCopied = job.progress().copiedBytes();
            // the measurement window, shorter when the pull ends first (a base smaller than the
            // limit times the window): the rate is then taken over the time until the end
            boolean ended = job.awaitEnd(Duration.ofSeconds(seconds));
            long copied = job.progress().copiedBytes() - startCopied;
            double elapsed = (System.nanoTime() - start) / 1e9;
            if (!ended) {
                job.cancel(true);
                job.awaitEnd(Duration.ofMinutes(1));
            }
            stop.set(true);
            for (Thread guest : guests) {
                guest.join();
            }
            double rate = copied / elapsed;
            System.out.printf(
                    "rate=%.0f limit=%d error_pct=%.2f guest_read_mib_s=%.0f%s%n",
                    rate,
                    bytesPerSecond,
                    100 * (rate - bytesPerSecond) / bytesPerSecond,
                    guestBytes.get() / elapsed / (1 << 20),
                    ended ? " (the pull ended within the window)" : "");
        }
    }
}
