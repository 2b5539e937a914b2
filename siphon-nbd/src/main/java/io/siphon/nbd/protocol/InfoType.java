package io.siphon.nbd.protocol;

/** Information items of NBD_OPT_INFO and NBD_OPT_GO replies. */
public final class InfoType {
    /** Export size (u64) and transmission flags (u16). */
    public static final int EXPORT = 0;
    /** The export's canonical name. */
    public static final int NAME = 1;
    /** A human-readable description. */
    public static final int DESCRIPTION = 2;
    /** Minimum, preferred and maximum block sizes (three u32). */
    public static final int BLOCK_SIZE = 3;

    private InfoType() {}
}
