package io.siphon.nbd.protocol;

/** The 16 per-request command flags (doc/proto.md, "Command flags"). */
public final class CommandFlags {
    /** WRITE, WRITE_ZEROES, TRIM: durable when the reply is sent. */
    public static final int FUA = 1;
    /** WRITE_ZEROES: do not deallocate. */
    public static final int NO_HOLE = 1 << 1;
    /** READ: reply in one data chunk. */
    public static final int DF = 1 << 2;
    /** BLOCK_STATUS: one descriptor is enough. */
    public static final int REQ_ONE = 1 << 3;
    /** WRITE_ZEROES: fail with ENOTSUP rather than write zeroes slowly. */
    public static final int FAST_ZERO = 1 << 4;

    private CommandFlags() {}
}
