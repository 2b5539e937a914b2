package io.siphon.testing.fuzz;

import java.util.Arrays;
import java.util.Random;

/** The mutations the structure-aware fuzzers share: interesting values, bit flips, cuts, inserts. */
public final class Mutations {
    /** Values at the edges of what fields hold: signs, powers of two, the usual limits of lengths and offsets. */
    public static final long[] INTERESTING = {
        0,
        1,
        -1,
        0x8000000000000000L,
        0x7fffffffffffffffL,
        512,
        65535,
        65536,
        65537,
        1L << 32,
        1L << 40,
        0x00fffffffffffe00L,
        0x3f000000000001feL,
        0x7fffffff,
        0x80000000L,
        0xffffffffL,
        33554432,
        33554433
    };

    private Mutations() {}

    /** An interesting value half the time, else a random one. */
    public static long value(Random random) {
        return random.nextBoolean() ? INTERESTING[random.nextInt(INTERESTING.length)] : random.nextLong();
    }

    /** One of {@code choices}. */
    public static int pick(Random random, int... choices) {
        return choices[random.nextInt(choices.length)];
    }

    /** One of {@code choices}. */
    @SafeVarargs
    public static <T> T pickOf(Random random, T... choices) {
        return choices[random.nextInt(choices.length)];
    }

    /** Flips one bit of {@code bytes} in place (nothing for an empty array) and returns it. */
    public static byte[] flip(byte[] bytes, Random random) {
        if (bytes.length > 0) {
            int at = random.nextInt(bytes.length);
            bytes[at] ^= (byte) (1 << random.nextInt(8));
        }
        return bytes;
    }

    /** The first 1 to {@code length - 1} bytes (at least one). */
    public static byte[] cut(byte[] bytes, Random random) {
        return Arrays.copyOf(bytes, Math.max(1, random.nextInt(Math.max(1, bytes.length))));
    }

    /** {@code bytes} with up to 64 random bytes inserted at a random place. */
    public static byte[] insert(byte[] bytes, Random random) {
        int at = random.nextInt(bytes.length + 1);
        byte[] extra = new byte[1 + random.nextInt(64)];
        random.nextBytes(extra);
        byte[] out = new byte[bytes.length + extra.length];
        System.arraycopy(bytes, 0, out, 0, at);
        System.arraycopy(extra, 0, out, at, extra.length);
        System.arraycopy(bytes, at, out, at + extra.length, bytes.length - at);
        return out;
    }
}
