package io.siphon.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.block.Allocation;
import io.siphon.block.BlockDevice;
import io.siphon.block.Extent;
import io.siphon.block.RequestFlag;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What every {@link BlockDevice} must do with requests inside it (a {@link RequestGate} in front
 * refuses the others: see {@code RequestGateTest}). An implementation plugs in by creating a fresh,
 * empty (all-zero), writable device of a given size, and reopening it after close.
 */
public abstract class BlockDeviceContract {
    protected static final long SIZE = 8L << 20;

    @TempDir
    protected Path dir;

    /** A new writable device of {@code sizeBytes} that reads as zeroes. */
    protected abstract BlockDevice create(long sizeBytes) throws IOException;

    /** The device last created, opened again after it was closed. */
    protected abstract BlockDevice reopen() throws IOException;

    protected static byte[] random(long seed, int length) {
        byte[] bytes = new byte[length];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    protected static byte[] read(BlockDevice device, long offset, int length) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(length);
        device.read(offset, buffer);
        assertFalse(buffer.hasRemaining(), "read must fill the buffer");
        return buffer.array();
    }

    @Test
    void newDeviceHasItsSizeAndReadsZeroes() throws IOException {
        try (BlockDevice device = create(SIZE)) {
            assertEquals(SIZE, device.sizeBytes());
            assertArrayEquals(new byte[65536], read(device, 0, 65536));
            assertArrayEquals(new byte[4096], read(device, SIZE - 4096, 4096));
        }
    }

    @Test
    void writesReadBackAtUnalignedOffsets() throws IOException {
        try (BlockDevice device = create(SIZE)) {
            byte[] data = random(1, 100_003);
            device.write(12_345, ByteBuffer.wrap(data));
            assertArrayEquals(data, read(device, 12_345, data.length));
            assertArrayEquals(new byte[12_345], read(device, 0, 12_345));
            byte[] tail = read(device, 12_345 + data.length, 777);
            assertArrayEquals(new byte[777], tail);
        }
    }

    @Test
    void writesSurviveCloseAndReopen() throws IOException {
        byte[] data = random(2, 70_000);
        try (BlockDevice device = create(SIZE)) {
            device.write(SIZE - data.length, ByteBuffer.wrap(data));
            device.write(0, ByteBuffer.wrap(data));
            device.flush();
        }
        try (BlockDevice device = reopen()) {
            assertArrayEquals(data, read(device, SIZE - data.length, data.length));
            assertArrayEquals(data, read(device, 0, data.length));
        }
    }

    @Test
    void writeZeroesReadsAsZeroes() throws IOException {
        try (BlockDevice device = create(SIZE)) {
            byte[] data = random(3, 300_000);
            device.write(1000, ByteBuffer.wrap(data));
            device.writeZeroes(5000, 200_000, Set.of());
            device.writeZeroes(250_000, 10_000, Set.of(RequestFlag.MAY_UNMAP));
            byte[] expected = data.clone();
            java.util.Arrays.fill(expected, 4000, 204_000, (byte) 0);
            java.util.Arrays.fill(expected, 249_000, 259_000, (byte) 0);
            assertArrayEquals(expected, read(device, 1000, data.length));
        }
    }

    @Test
    void discardKeepsNeighboursIntact() throws IOException {
        try (BlockDevice device = create(SIZE)) {
            byte[] data = random(4, 1 << 20);
            device.write(0, ByteBuffer.wrap(data));
            device.discard(3 << 18, 1 << 18);
            assertArrayEquals(
                    java.util.Arrays.copyOfRange(data, 0, 3 << 18), read(device, 0, 3 << 18), "before the discard");
            // the discarded range is unspecified; what follows it is not
            assertArrayEquals(java.util.Arrays.copyOfRange(data, 1 << 20, 1 << 20), read(device, 1 << 20, 0), "after");
        }
    }

    @Test
    void blockStatusCoversTheRangeInOrder() throws IOException {
        try (BlockDevice device = create(SIZE)) {
            device.write(1 << 20, ByteBuffer.wrap(random(5, 1 << 16)));
            long offset = 0;
            while (offset < SIZE) {
                List<Extent> extents = device.blockStatus(offset, SIZE - offset);
                assertFalse(extents.isEmpty(), "block status at " + offset);
                for (Extent extent : extents) {
                    assertEquals(offset, extent.offsetBytes(), "extents are contiguous");
                    assertTrue(extent.endBytes() <= SIZE);
                    offset = extent.endBytes();
                }
            }
            List<Extent> written = device.blockStatus(1 << 20, 1 << 16);
            assertEquals(Allocation.DATA, written.getFirst().allocation(), "written range is data: " + written);
        }
    }

    @Test
    void concurrentWritesToDisjointRangesAllLand() throws Exception {
        try (BlockDevice device = create(SIZE)) {
            int writers = 16;
            int chunk = (int) (SIZE / writers);
            List<Future<?>> done = new ArrayList<>();
            try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
                for (int i = 0; i < writers; i++) {
                    long offset = (long) i * chunk;
                    byte[] data = random(100 + i, chunk);
                    done.add(pool.submit(() -> {
                        for (int part = 0; part < chunk; part += 4096) {
                            device.write(offset + part, ByteBuffer.wrap(data, part, 4096));
                        }
                        return null;
                    }));
                }
                for (Future<?> f : done) {
                    f.get();
                }
            }
            for (int i = 0; i < writers; i++) {
                assertArrayEquals(random(100 + i, chunk), read(device, (long) i * chunk, chunk), "writer " + i);
            }
        }
    }
}
