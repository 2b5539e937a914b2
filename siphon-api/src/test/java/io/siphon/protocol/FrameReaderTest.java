package io.siphon.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;

class FrameReaderTest {
    /** Delivers its bytes in pieces of random length, as a socket may. */
    private static InputStream trickle(byte[] bytes, long seed) {
        Random random = new Random(seed);
        return new ByteArrayInputStream(bytes) {
            @Override
            public synchronized int read(byte[] b, int off, int len) {
                return super.read(b, off, Math.min(len, 1 + random.nextInt(7)));
            }
        };
    }

    @Test
    void linesSplitAnywhereComeBackWhole() throws Exception {
        long seed = new Random().nextLong();
        System.out.println("FrameReaderTest seed " + seed);
        byte[] bytes = "{\"a\":1}\n\r\n{\"b\":\"é\"}\r\n\n{\"c\":3}\n".getBytes(StandardCharsets.UTF_8);
        FrameReader reader = new FrameReader(trickle(bytes, seed));
        assertEquals(Optional.of("{\"a\":1}"), reader.next());
        assertEquals(Optional.of("{\"b\":\"\u00e9\"}"), reader.next());
        assertEquals(Optional.of("{\"c\":3}"), reader.next());
        assertEquals(Optional.empty(), reader.next());
    }

    @Test
    void aMessageAtTheLimitPassesAndOneByteMoreIsRefused() throws Exception {
        byte[] exact = ("x".repeat(16) + "\n").getBytes(StandardCharsets.US_ASCII);
        assertEquals(Optional.of("x".repeat(16)), new FrameReader(new ByteArrayInputStream(exact), 16).next());
        byte[] over = ("x".repeat(17) + "\n").getBytes(StandardCharsets.US_ASCII);
        ProtocolException e =
                assertThrows(ProtocolException.class, () -> new FrameReader(new ByteArrayInputStream(over), 16).next());
        assertTrue(e.getMessage().contains("exceeds 16 bytes"), e.getMessage());
    }

    @Test
    void aCutMessageAndBadUtf8AreProtocolErrors() throws IOException {
        assertThrows(
                ProtocolException.class,
                () -> new FrameReader(new ByteArrayInputStream("{\"a\"".getBytes(StandardCharsets.US_ASCII))).next());
        byte[] bad = {'"', (byte) 0xC3, '"', '\n'};
        assertThrows(ProtocolException.class, () -> new FrameReader(new ByteArrayInputStream(bad)).next());
    }
}
