package io.siphon.util;

/**
 * Checked arithmetic for offsets and lengths that come from files or the network.
 *
 * <p>Every method throws {@link IllegalArgumentException} naming the offending value; callers that
 * parse untrusted input catch it at their edge and turn it into a typed error naming the source.
 */
public final class Checked {
    private Checked() {}

    /** Returns {@code offsetBytes + lengthBytes}, refusing negatives and overflow. */
    public static long end(long offsetBytes, long lengthBytes) {
        if (offsetBytes < 0 || lengthBytes < 0) {
            throw new IllegalArgumentException("negative range: offset " + offsetBytes + ", length " + lengthBytes);
        }
        try {
            return Math.addExact(offsetBytes, lengthBytes);
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("range overflows: offset " + offsetBytes + ", length " + lengthBytes, e);
        }
    }

    /** Whether {@code [offsetBytes, offsetBytes + lengthBytes)} lies within {@code [0, sizeBytes)}. */
    public static boolean within(long offsetBytes, long lengthBytes, long sizeBytes) {
        return offsetBytes >= 0
                && lengthBytes >= 0
                && offsetBytes <= sizeBytes
                && lengthBytes <= sizeBytes - offsetBytes;
    }

    /** Throws unless the range lies within a device of {@code sizeBytes}. */
    public static void requireWithin(long offsetBytes, long lengthBytes, long sizeBytes) {
        if (!within(offsetBytes, lengthBytes, sizeBytes)) {
            throw new IllegalArgumentException("range offset " + offsetBytes + ", length " + lengthBytes
                    + " is outside the device of " + sizeBytes + " bytes");
        }
    }

    /** Narrows to int, refusing values that do not fit. */
    public static int toInt(long value, String what) {
        if (value < Integer.MIN_VALUE || value > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(what + " " + value + " does not fit in 32 bits");
        }
        return (int) value;
    }
}
