package io.siphon.format.qcow2;

import io.siphon.format.ImageFile;
import java.io.IOException;
import java.nio.ByteBuffer;

/** One shared block of zero bytes, for filling buffers and writing zeroes in 64 KiB pieces. */
final class Zeroes {
    private static final byte[] ZEROES = new byte[64 << 10];

    private Zeroes() {}

    /** A read-only buffer of at most {@code maxBytes} zero bytes (at most 64 KiB). */
    static ByteBuffer chunk(long maxBytes) {
        return ByteBuffer.wrap(ZEROES, 0, (int) Math.min(ZEROES.length, maxBytes))
                .asReadOnlyBuffer();
    }

    /** Fills what remains of {@code part} with zeroes. */
    static void fill(ByteBuffer part) {
        while (part.hasRemaining()) {
            part.put(ZEROES, 0, Math.min(ZEROES.length, part.remaining()));
        }
    }

    /** Writes {@code bytes} zero bytes to {@code file} at {@code offset}. */
    static void write(ImageFile file, long offset, long bytes) throws IOException {
        for (long done = 0; done < bytes; ) {
            ByteBuffer zeroes = chunk(bytes - done);
            int n = zeroes.remaining();
            file.writeFully(offset + done, zeroes);
            done += n;
        }
    }
}
