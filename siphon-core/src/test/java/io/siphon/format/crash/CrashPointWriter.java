package io.siphon.format.crash;

import io.siphon.format.ImageChain;
import io.siphon.format.OpenOptions;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Random;
import java.util.Set;

/**
 * Run in a child JVM with {@code -Dsiphon.crash-point=POINT@N}: writes blocks into a clone through
 * its chain (each allocating a cluster and copying the rest of it from the template), flushing every
 * few writes and printing "flushed I" once write I is durable, then drops the backing link as a
 * finished pull does and prints "unlinked". It dies at the crash point if it gets there.
 */
public final class CrashPointWriter {
    static final int STRIDE = 64 << 10;
    static final int BLOCK = 4096;
    /** Where in its cluster each block starts: the bytes before it are the template's. */
    static final int IN_CLUSTER = 512;

    private CrashPointWriter() {}

    public static void main(String[] args) throws Exception {
        Path image = Path.of(args[0]);
        long seed = Long.parseLong(args[1]);
        int writes = Integer.parseInt(args[2]);
        ImageChain chain = ImageChain.open(image, Optional.empty(), OpenOptions.READ_WRITE);
        for (int i = 0; i < writes; i++) {
            chain.top().write(offset(i), ByteBuffer.wrap(block(seed, i)), Set.of());
            if (i % 4 == 3 || i == writes - 1) {
                chain.top().flush();
                System.out.println("flushed " + i);
                System.out.flush();
            }
        }
        chain.top().changeBackingReference(Optional.empty());
        System.out.println("unlinked");
        System.out.flush();
        Runtime.getRuntime().halt(0);
    }

    static long offset(int i) {
        return (long) i * STRIDE + IN_CLUSTER;
    }

    static byte[] block(long seed, int i) {
        byte[] data = new byte[BLOCK];
        new Random(seed * 31 + i).nextBytes(data);
        return data;
    }
}
