package io.siphon.util;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * Named points in the order metadata reaches the disk, at which a test's child process can kill
 * itself, as QEMU's blkdebug events let a test stop at "l2_update" or "refblock_alloc". The system
 * property {@value #PROPERTY} names one point, optionally with the occurrence to stop at ({@code
 * qcow2.flush.l1_entries.before@3}); the process then halts there with exit status {@value
 * #EXIT_STATUS}, writing nothing more, as a kill -9 would. Unset (always, outside such tests), a
 * point costs one comparison. Thread-safe.
 */
public final class CrashPoints {
    public static final String PROPERTY = "siphon.crash-point";
    public static final int EXIT_STATUS = 86;

    private static final String POINT;
    private static final int OCCURRENCE;
    private static final AtomicInteger REACHED = new AtomicInteger();

    static {
        String spec = System.getProperty(PROPERTY, "");
        int at = spec.indexOf('@');
        POINT = spec.isEmpty() ? null : at < 0 ? spec : spec.substring(0, at);
        OCCURRENCE = at < 0 ? 1 : Integer.parseInt(spec.substring(at + 1));
    }

    private CrashPoints() {}

    /** Marks that the process has reached {@code point}; halts it there if it is the one named. */
    public static void reach(String point) {
        if (POINT != null && POINT.equals(point) && REACHED.incrementAndGet() == OCCURRENCE) {
            Runtime.getRuntime().halt(EXIT_STATUS);
        }
    }
}
