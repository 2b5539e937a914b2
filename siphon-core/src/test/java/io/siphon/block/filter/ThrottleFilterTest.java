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

    /** With the clock held still one request passes; then each second lets one second's worth through. */
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
            waitUntilStable(bytesRead);
            assertEquals(MIB / 4, bytesRead.get(), "the first request overdraws the bucket, the next waits");
            for (int second = 1; second <= 2; second++) {
                // in steps shorter than the burst, as a real clock moves while the reader waits
                for (int tick = 0; tick < 20; tick++) {
                    clock.advance(SECOND / 20);
                    waitUntilStable(bytesRead);
                }
                long expected = MIB / 4 + (long) second * MIB;
                assertTrue(
                        Math.abs(bytesRead.get() - expected) <= MIB / 4,
                        "after " + second + " s: " + bytesRead.get() + " bytes, expected about " + expected);
            }
            throttle.setBytesPerSecond(0);
            reader.join();
            assertEquals(4L * MIB, bytesRead.get());
        }
    }

    /** Returns once the counter has not moved for a while: the reader is waiting on the clock. */
    private static void waitUntilStable(AtomicLong counter) throws InterruptedException {
        long last;
        do {
            last = counter.get();
            Thread.sleep(30);
        } while (counter.get() != last);
    }
}
