package io.siphon.api;

/** Conversions between libvirt's bandwidth units: MiB/s by default, bytes/s with a BYTES flag. */
public final class Bandwidth {
    private static final long MIB = 1024L * 1024L;

    private Bandwidth() {}

    /**
     * The limit in bytes per second for {@code bandwidth} given in bytes/s when {@code inBytes}, else
     * in MiB/s; 0 means unlimited. A negative value, or one that overflows, is {@link
     * ErrorCode#INVALID_ARG}.
     */
    public static long toBytesPerSecond(long bandwidth, boolean inBytes) {
        if (bandwidth < 0) {
            throw new SiphonException(ErrorCode.INVALID_ARG, "bandwidth " + bandwidth + " is negative");
        }
        if (inBytes) {
            return bandwidth;
        }
        if (bandwidth > Long.MAX_VALUE / MIB) {
            throw new SiphonException(
                    ErrorCode.INVALID_ARG,
                    "bandwidth " + bandwidth + " MiB/s must be at most " + (Long.MAX_VALUE / MIB));
        }
        return bandwidth * MIB;
    }

    /** {@code bytesPerSecond} in MiB/s, rounded up so that a limit never reads as 0 (unlimited). */
    public static long toMiBPerSecond(long bytesPerSecond) {
        return bytesPerSecond / MIB + (bytesPerSecond % MIB == 0 ? 0 : 1);
    }
}
