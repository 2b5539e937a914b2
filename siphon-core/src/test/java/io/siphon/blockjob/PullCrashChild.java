package io.siphon.blockjob;

import io.siphon.job.Job;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import java.util.Random;

/**
 * The process {@link PullCrashTest} kills: pulls a disk in the background while writing random data
 * to it, journaling each write before it is sent ("W offset length seed") and each completed flush
 * ("F"), until it is SIGKILLed. Arguments: image, journal, seed, pull speed in bytes per second.
 */
public final class PullCrashChild {
    /** What the child prints once its pull runs: the parent's clock for the kill starts then. */
    static final String READY = "pulling";

    private PullCrashChild() {}

    public static void main(String[] args) throws Exception {
        Path image = Path.of(args[0]);
        Path journalPath = Path.of(args[1]);
        Random random = new Random(Long.parseLong(args[2]));
        long speed = Long.parseLong(args[3]);
        try (Disk disk = Disk.open("vda", image, Optional.empty(), false);
                FileChannel journal =
                        FileChannel.open(journalPath, StandardOpenOption.CREATE, StandardOpenOption.APPEND)) {
            Job job = StreamJob.create(disk, StreamOptions.defaults().withSpeed(speed));
            job.start();
            System.out.println(READY);
            System.out.flush();
            long size = disk.device().sizeBytes();
            while (true) {
                int length = 512 * (1 + random.nextInt(256));
                long offset = 512 * random.nextLong((size - length) / 512 + 1);
                long dataSeed = random.nextLong();
                append(journal, "W " + offset + " " + length + " " + dataSeed + "\n");
                disk.device().write(offset, ByteBuffer.wrap(data(dataSeed, length)));
                if (random.nextInt(4) == 0) {
                    disk.device().flush();
                    append(journal, "F\n");
                }
                Thread.sleep(random.nextInt(3));
            }
        }
    }

    /** The bytes a journaled write carries. */
    static byte[] data(long seed, int length) {
        byte[] bytes = new byte[length];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    private static void append(FileChannel journal, String line) throws IOException {
        journal.write(ByteBuffer.wrap(line.getBytes(StandardCharsets.US_ASCII)));
        journal.force(false);
    }
}
