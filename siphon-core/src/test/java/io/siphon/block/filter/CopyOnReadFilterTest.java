package io.siphon.block.filter;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.block.Allocation;
import io.siphon.block.BlockDevice;
import io.siphon.block.Extent;
import io.siphon.block.RequestFlag;
import io.siphon.block.Waiting;
import io.siphon.format.BackingReference;
import io.siphon.format.CreateOptions;
import io.siphon.format.Formats;
import io.siphon.format.Image;
import io.siphon.format.ImageChain;
import io.siphon.format.OpenOptions;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Copy-on-read over a qcow2 top whose backing is a qcow2 full of 0x11 (zeroes in its last MiB), as a
 * disk has it: the filter below a {@link RequestGate}.
 */
class CopyOnReadFilterTest {
    private static final int MIB = 1 << 20;
    private static final long SIZE = 4L * MIB;
    private static final int CLUSTER = 65536;

    @TempDir
    Path dir;

    private Path top;

    @BeforeEach
    void makeChain() throws IOException {
        Path base = dir.resolve("base.qcow2");
        top = dir.resolve("top.qcow2");
        Formats.byName("qcow2").create(base, CreateOptions.ofSize(SIZE));
        try (Image image = ImageChain.openOne(base, Optional.empty(), OpenOptions.READ_WRITE)) {
            byte[] data = new byte[3 * MIB];
            Arrays.fill(data, (byte) 0x11);
            image.write(0, ByteBuffer.wrap(data));
            image.write(3 * MIB, ByteBuffer.allocate(MIB)); // allocated zeroes
        }
        Formats.byName("qcow2")
                .create(
                        top,
                        new CreateOptions(SIZE, Optional.of(BackingReference.of("base.qcow2", "qcow2")), Map.of()));
    }

    private static byte[] read(BlockDevice device, long offset, int length, Set<RequestFlag> flags) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(length);
        device.read(offset, buffer, flags);
        assertFalse(buffer.hasRemaining());
        return buffer.array();
    }

    private static RequestGate front(Image top, boolean copyEveryRead) {
        return new RequestGate(new CopyOnReadFilter(top, CLUSTER), CLUSTER, copyEveryRead);
    }

    private static final Set<RequestFlag> COPY = Set.of(RequestFlag.COPY_ON_READ);

    private static Allocation topHolds(Image image, long offset) throws IOException {
        return image.blockStatus(offset, 1).getFirst().allocation();
    }

    private static byte[] filled(int length, int value) {
        byte[] bytes = new byte[length];
        Arrays.fill(bytes, (byte) value);
        return bytes;
    }

    @Test
    void aCopyingReadWritesWholeClustersIntoTheTop() throws IOException {
        try (ImageChain chain = ImageChain.open(top, Optional.empty(), OpenOptions.READ_WRITE)) {
            RequestGate filter = front(chain.top(), false);
            assertArrayEquals(filled(1000, 0x11), read(filter, 70_000, 1000, Set.of()));
            assertEquals(Allocation.UNALLOCATED, topHolds(chain.top(), 70_000), "a plain read copies nothing");
            assertArrayEquals(filled(1000, 0x11), read(filter, 70_000, 1000, Set.of(RequestFlag.COPY_ON_READ)));
            List<Extent> status = chain.top().blockStatus(0, 3 * CLUSTER);
            assertEquals(Allocation.UNALLOCATED, status.get(0).allocation());
            assertEquals(new Extent(CLUSTER, CLUSTER, Allocation.DATA), withoutHost(status.get(1)), "cluster 1 only");
            assertEquals(Allocation.UNALLOCATED, status.get(2).allocation());
            chain.remove(1, 2);
            assertArrayEquals(filled(CLUSTER, 0x11), read(chain.top(), CLUSTER, CLUSTER, Set.of()), "held alone");
        }
    }

    private static Extent withoutHost(Extent extent) {
        return new Extent(extent.offsetBytes(), extent.lengthBytes(), extent.allocation());
    }

    @Test
    void copyOnReadReportsTheBytesItCopiedAndZeroesBecomeZeroClusters() throws IOException {
        try (ImageChain chain = ImageChain.open(top, Optional.empty(), OpenOptions.READ_WRITE)) {
            CopyOnReadFilter copier = new CopyOnReadFilter(chain.top(), CLUSTER);
            RequestGate filter = new RequestGate(copier, CLUSTER, false);
            filter.write(2 * MIB, ByteBuffer.wrap(filled(CLUSTER, 0x22)));
            long copied = copied(copier, () -> read(filter, 2 * MIB - CLUSTER, 3 * CLUSTER, COPY));
            assertEquals(2L * CLUSTER, copied, "the cluster the guest wrote is not copied");
            assertEquals(MIB, copied(copier, () -> read(filter, 3 * MIB, MIB, COPY)));
            assertEquals(Allocation.ZERO, topHolds(chain.top(), 3 * MIB), "backing zeroes are held as zeroes");
            assertEquals(0, copied(copier, () -> read(filter, 3 * MIB, MIB, COPY)), "nothing left to copy");
            chain.remove(1, 2);
            assertArrayEquals(filled(CLUSTER, 0x22), read(chain.top(), 2 * MIB, CLUSTER, Set.of()));
            assertArrayEquals(new byte[MIB], read(chain.top(), 3 * MIB, MIB, Set.of()));
        }
    }

    private interface Read {
        byte[] run() throws IOException;
    }

    /** The bytes {@code copier} copied while {@code read} ran. */
    private static long copied(CopyOnReadFilter copier, Read read) throws IOException {
        long before = copier.copiedBytes();
        read.run();
        return copier.copiedBytes() - before;
    }

    @Test
    void copyEveryReadCopiesPlainReads() throws IOException {
        try (ImageChain chain = ImageChain.open(top, Optional.empty(), OpenOptions.READ_WRITE)) {
            RequestGate filter = front(chain.top(), true);
            read(filter, 0, 4096, Set.of());
            assertEquals(Allocation.DATA, topHolds(chain.top(), 0));
            filter.setCopyEveryRead(false);
            read(filter, 5 * CLUSTER, 4096, Set.of());
            assertEquals(Allocation.UNALLOCATED, topHolds(chain.top(), 5 * CLUSTER));
        }
    }

    @Test
    void aReadOnlyTopIsNeverWritten() throws IOException {
        try (ImageChain chain = ImageChain.open(top, Optional.empty(), OpenOptions.READ_ONLY)) {
            RequestGate filter = front(chain.top(), true);
            assertArrayEquals(filled(4096, 0x11), read(filter, 0, 4096, COPY));
            assertEquals(Allocation.UNALLOCATED, topHolds(chain.top(), 0));
        }
    }

    /** Holds reads of the backing until released, so that a copy can be caught between its read and write. */
    private static final class GatedDevice extends FilterBlockDevice {
        final CountDownLatch entered = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);

        GatedDevice(BlockDevice next) {
            super(next);
        }

        @Override
        public void read(long offsetBytes, ByteBuffer dst, Set<RequestFlag> flags) throws IOException {
            entered.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                throw new IOException(e);
            }
            super.read(offsetBytes, dst, flags);
        }
    }

    private interface GuestRequest {
        void run(RequestGate filter) throws IOException;
    }

    /**
     * A copy has read the backing's 0x11 and is about to write it; a guest request on the same
     * cluster arrives. It must wait, and land after the copy: the guest's data wins.
     */
    private void guestRequestWinsOverARacingCopy(GuestRequest request, byte[] expected) throws Exception {
        try (ImageChain chain = ImageChain.open(top, Optional.empty(), OpenOptions.READ_WRITE)) {
            Image topImage = chain.top();
            GatedDevice gate = new GatedDevice(topImage.backing().orElseThrow());
            topImage.attachBacking(Optional.of(gate));
            try {
                CopyOnReadFilter copier = new CopyOnReadFilter(topImage, CLUSTER);
                RequestGate filter = new RequestGate(copier, CLUSTER, false);
                // virtual threads: the common pool may have a single worker on a small machine
                ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();
                CompletableFuture<Long> copy = CompletableFuture.supplyAsync(
                        () -> {
                            try {
                                return copied(copier, () -> read(filter, 0, CLUSTER, COPY));
                            } catch (IOException e) {
                                throw new RuntimeException(e);
                            }
                        },
                        threads);
                assertTrue(gate.entered.await(10, TimeUnit.SECONDS));
                CompletableFuture<Void> guest = CompletableFuture.runAsync(
                        () -> {
                            try {
                                request.run(filter);
                            } catch (IOException e) {
                                throw new RuntimeException(e);
                            }
                        },
                        threads);
                Waiting.untilCount(filter::waitingCount, 1, "requests waiting for the copy's range lock");
                assertFalse(guest.isDone(), "the guest request waits for the copy's range lock");
                gate.release.countDown();
                assertEquals(CLUSTER, copy.get(10, TimeUnit.SECONDS));
                guest.get(10, TimeUnit.SECONDS);
                assertArrayEquals(expected, read(filter, 0, 8192, Set.of()));
            } finally {
                gate.release.countDown(); // a failed check must not leave the copy blocked
            }
        }
    }

    @Test
    void aGuestWriteRacingACopyWins() throws Exception {
        byte[] expected = filled(8192, 0x11);
        Arrays.fill(expected, 100, 4196, (byte) 0x77);
        guestRequestWinsOverARacingCopy(f -> f.write(100, ByteBuffer.wrap(filled(4096, 0x77))), expected);
    }

    @Test
    void aGuestWriteZeroesRacingACopyWins() throws Exception {
        byte[] expected = filled(8192, 0x11);
        Arrays.fill(expected, 0, 4096, (byte) 0);
        guestRequestWinsOverARacingCopy(f -> f.writeZeroes(0, 4096, Set.of(RequestFlag.MAY_UNMAP)), expected);
    }

    @Test
    void aGuestDiscardRacingACopyWins() throws Exception {
        // qcow2 v3 discards whole clusters to zeroes; the copy must not resurrect the old data
        guestRequestWinsOverARacingCopy(f -> f.discard(0, CLUSTER), new byte[8192]);
    }
}
