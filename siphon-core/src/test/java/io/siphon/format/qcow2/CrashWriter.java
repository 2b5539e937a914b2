package io.siphon.format.qcow2;

import io.siphon.format.Image;
import io.siphon.format.ImageChain;
import io.siphon.format.OpenOptions;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Random;

/**
 * Run in a child JVM: writes random clusters into an image, flushing now and then and printing
 * "flushed N" after the N-th write was made durable, then halts without closing anything, as a
 * crash (or kill -9) would.
 */
public final class CrashWriter {
    private CrashWriter() {}

    public static void main(String[] args) throws Exception {
        Path image = Path.of(args[0]);
        long seed = Long.parseLong(args[1]);
        int writes = Integer.parseInt(args[2]);
        Random random = new Random(seed);
        Image opened = ImageChain.openOne(image, Optional.of("qcow2"), OpenOptions.READ_WRITE);
        for (int i = 0; i < writes; i++) {
            byte[] data = CrashWriter.block(seed, i);
            long offset = random.nextInt((int) (opened.sizeBytes() / data.length)) * (long) data.length;
            opened.write(offset, ByteBuffer.wrap(data));
            if (i % 7 == 6) {
                opened.flush();
                System.out.println("flushed " + i);
                System.out.flush();
            }
        }
        Runtime.getRuntime().halt(9);
    }

    /** The content of the {@code i}-th write. */
    static byte[] block(long seed, int i) {
        byte[] data = new byte[4096 + 512];
        new Random(seed * 31 + i).nextBytes(data);
        return data;
    }
}
