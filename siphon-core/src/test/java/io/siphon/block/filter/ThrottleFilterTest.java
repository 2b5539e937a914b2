package io.siphon.block.filter;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.format.CreateOptions;
import io.siphon.format.Formats;
import io.siphon.format.Image;
import io.siphon.format.ImageChain;
import io.siphon.format.OpenOptions;
import io.siphon.util.FakeTimeSource;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ThrottleFilterTest {
    private static final int MIB = 1 << 20;
    private static final long SECOND = 1_000_000_000L;

    @TempDir
    Path dir;

    private Image rawDisk() throws Exception {
        Path file = dir.resolve("disk.raw");
        Formats.byName("raw").create(file, CreateOptions.ofSize(16 * MIB));
        return ImageChain.openOne(file, Optional.of("raw"), OpenOptions.READ_WRITE);
    }

    @Test
    void passesDataThroughUnchanged() throws Exception {
        try (Image raw = rawDisk()) {
            ThrottleFilter throttle = new ThrottleFilter(raw, new FakeTimeSource(), 0);
            byte[] data = new byte[300_000];
            new Random(7).nextBytes(data);
            throttle.write(4096, ByteBuffer.wrap(data));
            ByteBuffer back = ByteBuffer.allocate(data.length);
            throttle.read(4096, back);
            assertArrayEquals(data, back.array());
        }
    }

    /**
     * At 1 MiB/s each 256 KiB request leaves a debt the clock repays in exactly 250 ms: with the
     * clock held still only one request passes, each 250 ms tick lets exactly one more through, and
     * an unlimited rate releases the rest at once.
     */
    @Test
    void requestsWaitForTheClockAndARateChangeReleasesThem() throws Exception {
        FakeTimeSource clock = new FakeTimeSource();
        try (Image raw = rawDisk()) {
            ThrottleFilter throttle = new ThrottleFilter(raw, clock, MIB);
            AtomicLong bytesRead = new AtomicLong();
            Thread reader = Thread.ofVirtual().start(() -> {
                try {
                    for (int i = 0; i < 16; i++) {
                        throttle.read((long) i * MIB / 4, ByteBuffer.allocate(MIB / 4));
                        bytesRead.addAndGet(MIB / 4);
                    }
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            awaitCount(bytesRead, MIB / 4);
            for (int tick = 1; tick <= 8; tick++) {
                clock.advance(SECOND / 4);
                awaitCount(bytesRead, (tick + 1L) * MIB / 4);
            }
            Thread.sleep(50);
            assertEquals(9L * MIB / 4, bytesRead.get(), "no request passes before the clock allows it");
            throttle.setBytesPerSecond(0);
            reader.join();
            assertEquals(4L * MIB, bytesRead.get());
        }
    }

    /** Waits until the counter reaches {@code expected}; more would be a bug the caller checks. */
    private static void awaitCount(AtomicLong counter, long expected) throws InterruptedException {
        long deadline = System.nanoTime() + 60 * SECOND;
        while (counter.get() < expected) {
            assertTrue(System.nanoTime() < deadline, "stuck at " + counter.get() + " bytes, expected " + expected);
            Thread.sleep(1);
        }
        assertEquals(expected, counter.get());
    }
}
