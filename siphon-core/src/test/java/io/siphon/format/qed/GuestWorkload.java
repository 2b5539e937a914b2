package io.siphon.format.qed;

import io.siphon.block.BlockDevice;
import io.siphon.block.RequestFlag;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.Set;

/**
 * Random writes and write-zeroes of every alignment against a device, mirrored into an in-memory
 * model of what the guest should read. Seeded; the seed is printed by the caller.
 */
final class GuestWorkload {
    private final byte[] model;
    private final Random random;
    private final long clusterSize;

    /** Starts from {@code initial}, what the device reads now. */
    GuestWorkload(byte[] initial, long seed, long clusterSize) {
        this.model = initial.clone();
        this.random = new Random(seed);
        this.clusterSize = clusterSize;
    }

    /** A fresh seed for {@code test}, printed so that a failure can be replayed. */
    static long newSeed(String test) {
        long seed = Long.getLong("siphon.seed", new Random().nextLong());
        System.out.println(test + ": seed " + seed + " (replay with -Dsiphon.seed=" + seed + ")");
        return seed;
    }

    byte[] model() {
        return model;
    }

    /** Runs {@code operations} requests against {@code device}. */
    void run(BlockDevice device, int operations) throws IOException {
        for (int i = 0; i < operations; i++) {
            int kind = random.nextInt(10);
            if (kind < 6) {
                int length = 1 + random.nextInt((int) Math.min(3 * clusterSize, 256 << 10));
                long offset = randomOffset(length);
                byte[] data = new byte[length];
                random.nextBytes(data);
                device.write(offset, ByteBuffer.wrap(data));
                System.arraycopy(data, 0, model, (int) offset, length);
            } else if (kind < 8) {
                // whole clusters: the zero-cluster marker
                long clusters = model.length / clusterSize;
                long first = random.nextLong(clusters);
                long count = 1 + random.nextLong(Math.min(4, clusters - first));
                zero(device, first * clusterSize, count * clusterSize, Set.of(RequestFlag.MAY_UNMAP));
            } else {
                int length = 1 + random.nextInt((int) Math.min(2 * clusterSize, 128 << 10));
                zero(device, randomOffset(length), length, Set.of());
            }
        }
    }

    private long randomOffset(int length) {
        return random.nextLong(model.length - length + 1);
    }

    private void zero(BlockDevice device, long offset, long length, Set<RequestFlag> flags) throws IOException {
        device.writeZeroes(offset, length, flags);
        Arrays.fill(model, (int) offset, (int) (offset + length), (byte) 0);
    }

    /** Writes the model as a raw file. */
    Path writeRaw(Path path) throws IOException {
        return Files.write(path, model);
    }

    static byte[] readAll(BlockDevice device) throws IOException {
        ByteBuffer all = ByteBuffer.allocate(Math.toIntExact(device.sizeBytes()));
        device.read(0, all);
        return all.array();
    }
}
