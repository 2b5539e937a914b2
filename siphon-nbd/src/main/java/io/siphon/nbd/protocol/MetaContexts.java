package io.siphon.nbd.protocol;

/** The one metadata context Siphon serves, base:allocation, and its status bits. */
public final class MetaContexts {
    public static final String BASE_ALLOCATION = "base:allocation";
    /** Status bit: the range is not allocated (reads may still return data from elsewhere: zeroes here). */
    public static final int STATE_HOLE = 1;
    /** Status bit: the range reads as zeroes. */
    public static final int STATE_ZERO = 2;

    private MetaContexts() {}
}
