package io.siphon.util;

/** Power-of-two alignment helpers. Alignments passed in must be powers of two. */
public final class Alignment {
    private Alignment() {}

    public static boolean isPowerOfTwo(long value) {
        return value > 0 && (value & (value - 1)) == 0;
    }

    public static long alignDown(long value, long alignment) {
        return value & -alignment;
    }

    public static long alignUp(long value, long alignment) {
        return Math.addExact(value, alignment - 1) & -alignment;
    }

    public static boolean isAligned(long value, long alignment) {
        return (value & (alignment - 1)) == 0;
    }

    /** Log base 2 of a power of two. */
    public static int log2(long powerOfTwo) {
        if (!isPowerOfTwo(powerOfTwo)) {
            throw new IllegalArgumentException(powerOfTwo + " is not a power of two");
        }
        return Long.numberOfTrailingZeros(powerOfTwo);
    }
}
