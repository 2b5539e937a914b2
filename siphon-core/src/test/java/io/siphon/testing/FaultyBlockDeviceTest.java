package io.siphon.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.format.CreateOptions;
import io.siphon.format.Formats;
import io.siphon.format.Image;
import io.siphon.format.ImageChain;
import io.siphon.format.OpenOptions;
import io.siphon.testing.FaultyBlockDevice.Fault;
import io.siphon.testing.FaultyBlockDevice.Op;
import io.siphon.testing.FaultyBlockDevice.Rule;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each fault on a raw image over a real file: what the caller sees, and what reaches the file. */
class FaultyBlockDeviceTest {
    private static final int SIZE = 1 << 20;
    private static final int KIB64 = 64 << 10;

    @TempDir
    Path dir;

    private Path file;
    private byte[] content;
    private Image image;
    private FaultyBlockDevice faulty;

    @BeforeEach
    void openOverARealFile() throws IOException {
        file = dir.resolve("disk.raw");
        Formats.byName("raw").create(file, CreateOptions.ofSize(SIZE));
        content = new byte[SIZE];
        new Random(7).nextBytes(content);
        Files.write(file, content);
        image = ImageChain.openOne(file, Optional.of("raw"), OpenOptions.READ_WRITE);
        faulty = new FaultyBlockDevice(image);
    }

    @AfterEach
    void close() throws IOException {
        faulty.close();
        image.close();
    }

    private byte[] read(long offset, int length) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(length);
        faulty.read(offset, buffer);
        return buffer.array();
    }

    @Test
    void eioFailsReadsThatTouchTheRangeForTheNextNRequestsOnly() throws IOException {
        Rule rule = faulty.inject(Fault.EIO, Set.of(Op.READ), KIB64, KIB64, 2);
        assertArrayEquals(Arrays.copyOfRange(content, 0, KIB64), read(0, KIB64), "a read beside the range passes");
        for (int i = 0; i < 2; i++) {
            IOException e = assertThrows(IOException.class, () -> read(KIB64 - 1, 2));
            assertTrue(e.getMessage().startsWith("Input/output error"), e.getMessage());
            assertTrue(e.getMessage().contains("injected read error at " + (KIB64 - 1)), e.getMessage());
        }
        assertEquals(2, rule.fired());
        assertArrayEquals(Arrays.copyOfRange(content, KIB64, 2 * KIB64), read(KIB64, KIB64), "spent after two");
        faulty.write(KIB64, ByteBuffer.wrap(new byte[] {1}));
        assertEquals(2, rule.fired(), "a read rule leaves writes alone");
    }

    @Test
    void enospcRefusesWritesAndZeroesAndTheFileKeepsItsData() throws IOException {
        Rule rule = faulty.inject(Fault.ENOSPC, Op.WRITES, 0, SIZE, FaultyBlockDevice.ALWAYS);
        IOException write = assertThrows(IOException.class, () -> faulty.write(4096, ByteBuffer.allocate(4096)));
        assertTrue(write.getMessage().startsWith("No space left on device"), write.getMessage());
        assertThrows(IOException.class, () -> faulty.writeZeroes(0, SIZE, Set.of()));
        assertThrows(IOException.class, () -> faulty.discard(0, KIB64));
        assertArrayEquals(content, read(0, SIZE), "reads still pass");
        faulty.flush();
        assertArrayEquals(content, Files.readAllBytes(file), "nothing reached the file");
        assertEquals(3, rule.fired());
        rule.disarm();
        faulty.write(4096, ByteBuffer.wrap(new byte[] {9}));
        assertEquals(9, read(4096, 1)[0], "disarmed, writes land");
    }

    @Test
    void aShortReadFillsHalfTheBufferFromTheDevice() throws IOException {
        faulty.inject(Fault.SHORT, Set.of(Op.READ), 0, SIZE, 1);
        ByteBuffer buffer = ByteBuffer.allocate(8192);
        faulty.read(1000, buffer);
        assertEquals(4096, buffer.position(), "half the buffer filled");
        assertArrayEquals(Arrays.copyOfRange(content, 1000, 1000 + 4096), Arrays.copyOf(buffer.array(), 4096));
        assertArrayEquals(new byte[4096], Arrays.copyOfRange(buffer.array(), 4096, 8192), "the rest untouched");
        ByteBuffer next = ByteBuffer.allocate(8192);
        faulty.read(1000, next);
        assertEquals(8192, next.position(), "the rule fired once");
    }

    @Test
    void aShortWriteStoresItsFirstHalfThenFailsAsAFullDisk() throws IOException {
        faulty.inject(Fault.SHORT, Set.of(Op.WRITE), 0, SIZE, 1);
        byte[] data = new byte[8192];
        Arrays.fill(data, (byte) 0x5a);
        IOException e = assertThrows(IOException.class, () -> faulty.write(KIB64, ByteBuffer.wrap(data)));
        assertTrue(e.getMessage().contains("No space left on device"), e.getMessage());
        faulty.flush();
        byte[] onDisk = Files.readAllBytes(file);
        assertArrayEquals(Arrays.copyOf(data, 4096), Arrays.copyOfRange(onDisk, KIB64, KIB64 + 4096));
        assertArrayEquals(
                Arrays.copyOfRange(content, KIB64 + 4096, KIB64 + 8192),
                Arrays.copyOfRange(onDisk, KIB64 + 4096, KIB64 + 8192),
                "the second half never reached the file");
    }

    @Test
    void aSlowRequestTakesAtLeastTheDelayAndOthersDoNot() throws IOException {
        Duration delay = Duration.ofMillis(200);
        Rule rule = faulty.slow(delay, Set.of(Op.READ, Op.FLUSH), 0, 4096, 1);
        long start = System.nanoTime();
        read(8192, 4096);
        long unaffected = System.nanoTime() - start;
        start = System.nanoTime();
        assertArrayEquals(Arrays.copyOf(content, 4096), read(0, 4096));
        long slowed = System.nanoTime() - start;
        assertTrue(slowed >= delay.toNanos(), "slowed by " + slowed + " ns");
        assertTrue(unaffected < slowed, "a read outside the range is not delayed");
        assertEquals(1, rule.fired());
    }

    @Test
    void rulesThatCannotHoldAreRefusedNamingTheProblem() {
        IllegalArgumentException range = assertThrows(
                IllegalArgumentException.class, () -> faulty.inject(Fault.EIO, Set.of(Op.READ), -1, 10, 1));
        assertTrue(range.getMessage().contains("-1+10"), range.getMessage());
        assertThrows(IllegalArgumentException.class, () -> faulty.inject(Fault.SHORT, Set.of(Op.DISCARD), 0, 10, 1));
        assertThrows(IllegalArgumentException.class, () -> faulty.inject(Fault.SLOW, Set.of(Op.READ), 0, 10, 1));
    }
}
