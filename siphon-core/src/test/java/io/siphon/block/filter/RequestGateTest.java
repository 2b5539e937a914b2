package io.siphon.block.filter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.block.BlockDevice;
import io.siphon.block.Extent;
import io.siphon.block.RequestFlag;
import io.siphon.block.Waiting;
import io.siphon.format.CreateOptions;
import io.siphon.format.Formats;
import io.siphon.format.Image;
import io.siphon.format.ImageChain;
import io.siphon.format.OpenOptions;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The gate in front of each format: ranges checked once, before the format sees them; locks held. */
class RequestGateTest {
    private static final long SIZE = 8L << 20;
    private static final long CLUSTER = 65536;

    @TempDir
    Path dir;

    /** Counts the requests that reach the node below the gate. */
    private static final class Counting extends FilterBlockDevice {
        final AtomicInteger requests = new AtomicInteger();

        Counting(BlockDevice next) {
            super(next);
        }

        @Override
        public void read(long offsetBytes, ByteBuffer dst, Set<RequestFlag> flags) throws IOException {
            requests.incrementAndGet();
            super.read(offsetBytes, dst, flags);
        }

        @Override
        public void write(long offsetBytes, ByteBuffer src, Set<RequestFlag> flags) throws IOException {
            requests.incrementAndGet();
            super.write(offsetBytes, src, flags);
        }

        @Override
        public void writeZeroes(long offsetBytes, long lengthBytes, Set<RequestFlag> flags) throws IOException {
            requests.incrementAndGet();
            super.writeZeroes(offsetBytes, lengthBytes, flags);
        }

        @Override
        public void discard(long offsetBytes, long lengthBytes) throws IOException {
            requests.incrementAndGet();
            super.discard(offsetBytes, lengthBytes);
        }

        @Override
        public List<Extent> blockStatus(long offsetBytes, long lengthBytes) throws IOException {
            requests.incrementAndGet();
            return super.blockStatus(offsetBytes, lengthBytes);
        }
    }

    private Image create(String format) throws IOException {
        Path path = dir.resolve("disk." + format);
        Formats.byName(format).create(path, CreateOptions.ofSize(SIZE));
        return ImageChain.openOne(path, Optional.of(format), OpenOptions.READ_WRITE);
    }

    @ParameterizedTest
    @ValueSource(strings = {"raw", "qcow2", "qed"})
    void requestsOutsideTheDeviceAreRefusedBeforeTheFormatSeesThem(String format) throws IOException {
        try (Image image = create(format)) {
            Counting below = new Counting(image);
            RequestGate device = new RequestGate(below, CLUSTER, false);
            assertThrows(IllegalArgumentException.class, () -> device.read(SIZE - 10, ByteBuffer.allocate(11)));
            assertThrows(IllegalArgumentException.class, () -> device.write(-1, ByteBuffer.allocate(1)));
            assertThrows(IllegalArgumentException.class, () -> device.writeZeroes(SIZE, 1, Set.of()));
            assertThrows(IllegalArgumentException.class, () -> device.discard(Long.MAX_VALUE, Long.MAX_VALUE));
            assertThrows(IllegalArgumentException.class, () -> device.blockStatus(SIZE + 1, 1));
            assertEquals(0, below.requests.get(), "no refused request reached the " + format + " image");
            assertEquals(SIZE, image.sizeBytes());
            device.read(SIZE - 10, ByteBuffer.allocate(10));
            assertEquals(1, below.requests.get(), "a request inside the device goes through");
        }
    }

    @Test
    void theGuestsReadsWritesAndFlushesAreTotalledButNotTheJobsCopies() throws IOException {
        try (Image image = create("qcow2")) {
            RequestGate device = new RequestGate(image, CLUSTER, false);
            device.write(0, ByteBuffer.allocate(4096));
            device.writeZeroes(CLUSTER, 2 * CLUSTER, Set.of());
            device.read(0, ByteBuffer.allocate(512));
            device.read(0, ByteBuffer.allocate(8192), Set.of(RequestFlag.BACKGROUND)); // a pull's copy
            device.discard(4 * CLUSTER, CLUSTER);
            device.flush();
            GuestIoStats.Totals totals = device.guestIo().totals();
            assertEquals(1, totals.readRequests());
            assertEquals(512, totals.readBytes());
            assertEquals(2, totals.writeRequests(), "write-zeroes count as writes, as in QEMU");
            assertEquals(4096 + 2 * CLUSTER, totals.writeBytes());
            assertEquals(1, totals.flushRequests());
            assertTrue(totals.readNanos() > 0 && totals.writeNanos() > 0 && totals.flushNanos() >= 0, totals::toString);
            assertEquals(4, device.guestIo().snapshot().completed(), "the discard is in the histogram, the flush not");
        }
    }

    @Test
    void quiesceWaitsForRequestsInFlightAndHoldsNewOnes() throws Exception {
        try (Image image = create("raw")) {
            RequestGate device = new RequestGate(image, CLUSTER, false);
            var threads = Executors.newVirtualThreadPerTaskExecutor();
            CompletableFuture<Void> write;
            try (var quiet = device.quiesce()) {
                write = CompletableFuture.runAsync(
                        () -> {
                            try {
                                device.write(CLUSTER, ByteBuffer.allocate(512));
                            } catch (IOException e) {
                                throw new RuntimeException(e);
                            }
                        },
                        threads);
                Waiting.untilCount(device::waitingCount, 1, "writes waiting for the quiesced disk");
                assertFalse(write.isDone(), "a write waits while the disk is quiesced");
            }
            write.get(10, TimeUnit.SECONDS);
            threads.close();
        }
    }
}
