package io.siphon.nbd.protocol;

/** Flags exchanged at the start of the newstyle handshake: the server's 16 bits and the client's 32. */
public final class HandshakeFlags {
    /** Server: it speaks fixed newstyle (unknown options get an error reply, not a disconnect). */
    public static final int FIXED_NEWSTYLE = 1;
    /** Server: it may omit the 124 zero bytes after NBD_OPT_EXPORT_NAME's reply. */
    public static final int NO_ZEROES = 1 << 1;
    /** Client: it speaks fixed newstyle. */
    public static final int CLIENT_FIXED_NEWSTYLE = 1;
    /** Client: omit the 124 zero bytes. */
    public static final int CLIENT_NO_ZEROES = 1 << 1;

    private HandshakeFlags() {}
}
