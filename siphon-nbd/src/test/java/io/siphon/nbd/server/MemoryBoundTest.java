package io.siphon.nbd.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.block.BlockDevice;
import io.siphon.block.RequestFlag;
import io.siphon.block.filter.FilterBlockDevice;
import io.siphon.format.ImageChain;
import io.siphon.format.OpenOptions;
import io.siphon.nbd.client.NbdClient;
import io.siphon.nbd.client.NbdReplyException;
import io.siphon.nbd.protocol.CommandType;
import io.siphon.nbd.protocol.NbdError;
import io.siphon.nbd.testing.RandomDisk;
import io.siphon.nbd.testing.RawPeer;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The memory of requests in flight is bounded for the whole process, not per connection: many
 * connections that send large reads and never read the replies hold at most the shared budget
 * (plus the pool's idle buffers), stop being read while it is spent, are disconnected when their
 * replies stall (which frees their share), and a client that behaves is served meanwhile. Sizes come from the system
 * properties {@code siphon.reliability.nbd.connections} and {@code .reads} ({@code
 * scripts/reliability} runs the 40 x 64 reads of 32 MiB).
 */
class MemoryBoundTest {
    private static final long BUDGET_BYTES = 64L << 20;
    private static final long IDLE_CAP_BYTES = 128L << 20;
    private static final int READ_BYTES = 32 << 20;

    @TempDir
    Path dir;

    @Test
    void floodsOfUnreadLargeReadsStayWithinTheSharedBudgetAndABystanderIsServed() throws Exception {
        int connections = Integer.getInteger("siphon.reliability.nbd.connections", 16);
        int readsEach = Integer.getInteger("siphon.reliability.nbd.reads", 16);
        byte[] content = RandomDisk.content(42, 1 << 20);
        Path file = dir.resolve("disk.raw");
        Files.write(file, content);
        try (RandomAccessFile sparse = new RandomAccessFile(file.toFile(), "rw")) {
            sparse.setLength(2L * READ_BYTES);
        }
        ImageChain disk = ImageChain.open(file, Optional.of("raw"), OpenOptions.READ_ONLY);
        InFlightBudget budget = new InFlightBudget(BUDGET_BYTES);
        Path socket = dir.resolve("nbd.sock");
        long rssBefore = rssBytes();
        AtomicLong peakBuffers = new AtomicLong();
        AtomicLong peakRss = new AtomicLong();
        NbdServer server = NbdServer.builder()
                .export("disk", disk.top(), true)
                .listenUnix(socket)
                .memoryBudget(budget)
                .replyStallTimeout(Duration.ofSeconds(1))
                .build();
        Thread sampler = Thread.ofPlatform().daemon().start(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                peakBuffers.accumulateAndGet(server.bufferBytes(), Math::max);
                peakRss.accumulateAndGet(rssBytes() - rssBefore, Math::max);
                try {
                    Thread.sleep(2); // a sampling period, not a wait for a condition
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        try (server) {
            server.start();
            List<RawPeer> hostile = new ArrayList<>();
            try {
                for (int c = 0; c < connections; c++) {
                    RawPeer peer = RawPeer.transmission(socket, "disk", false);
                    hostile.add(peer);
                    for (int r = 0; r < readsEach; r++) {
                        peer.request(0, CommandType.READ.code(), r, (long) (r % 2) * READ_BYTES, READ_BYTES);
                    }
                }
                awaitSpent(budget);
                assertTimeoutPreemptively(Duration.ofSeconds(120), () -> {
                    try (NbdClient client = NbdClient.connect(server.uri("disk"))) {
                        ByteBuffer got = ByteBuffer.allocate(4096);
                        client.read(4096, got);
                        assertArrayEquals(Arrays.copyOfRange(content, 4096, 8192), got.array());
                    }
                });
            } finally {
                for (RawPeer peer : hostile) {
                    peer.close();
                }
            }
        } finally {
            sampler.interrupt();
            sampler.join();
            disk.close();
        }
        long bound = BUDGET_BYTES + IDLE_CAP_BYTES;
        System.out.printf(
                "nbd memory: %d connections x %d reads of %d MiB unread; peak request buffers %d MiB (bound %d MiB),"
                        + " peak RSS +%d MiB%n",
                connections, readsEach, READ_BYTES >> 20, peakBuffers.get() >> 20, bound >> 20, peakRss.get() >> 20);
        assertTrue(peakBuffers.get() <= bound, "request buffers reached " + peakBuffers.get() + " bytes");
        // the heap (512 MiB at most in tests) comes and goes with the collector; unbounded buffers would pass 1 GiB
        assertTrue(peakRss.get() <= (1L << 30), "RSS grew by " + peakRss.get() + " bytes");
    }

    @Test
    void anErrorInARequestThreadIsAnErrorReplyAndTheConnectionGoesOn() throws Exception {
        Path file = Files.write(dir.resolve("small.raw"), new byte[1 << 16]);
        try (ImageChain disk = ImageChain.open(file, Optional.of("raw"), OpenOptions.READ_WRITE);
                NbdServer server = NbdServer.builder()
                        .export("disk", new OutOfMemoryAtOffsetZero(disk.top()), false)
                        .listenUnix(dir.resolve("oom.sock"))
                        .build()
                        .start();
                NbdClient client = NbdClient.connect(server.uri("disk"))) {
            NbdReplyException refused =
                    assertThrows(NbdReplyException.class, () -> client.read(0, ByteBuffer.allocate(512)));
            assertEquals(NbdError.ENOMEM.code(), refused.errorCode(), refused.getMessage());
            ByteBuffer after = ByteBuffer.allocate(512);
            client.read(4096, after);
            assertEquals(512, after.position());
        }
    }

    /** Reads at offset 0 fail as if the heap were exhausted. */
    private static final class OutOfMemoryAtOffsetZero extends FilterBlockDevice {
        OutOfMemoryAtOffsetZero(BlockDevice next) {
            super(next);
        }

        @Override
        public void read(long offsetBytes, ByteBuffer dst, Set<RequestFlag> flags) throws IOException {
            if (offsetBytes == 0) {
                throw new OutOfMemoryError("Java heap space (injected)");
            }
            super.read(offsetBytes, dst, flags);
        }
    }

    private static void awaitSpent(InFlightBudget budget) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (budget.availableBytes() >= READ_BYTES) {
            assertTrue(System.nanoTime() < deadline, "the hostile reads never took the budget");
            Thread.sleep(1);
        }
    }

    private static long rssBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) << 10;
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        throw new IllegalStateException("no VmRSS in /proc/self/status");
    }
}
