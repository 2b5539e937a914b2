package io.siphon.nbd.protocol;

/** Reply types of the handshake phase; errors have the top bit set (doc/proto.md, "Option reply types"). */
public final class OptionReplyType {
    public static final int ACK = 1;
    public static final int SERVER = 2;
    public static final int INFO = 3;
    public static final int META_CONTEXT = 4;
    public static final int ERR_UNSUP = 0x80000001;
    public static final int ERR_POLICY = 0x80000002;
    public static final int ERR_INVALID = 0x80000003;
    public static final int ERR_PLATFORM = 0x80000004;
    public static final int ERR_TLS_REQD = 0x80000005;
    public static final int ERR_UNKNOWN = 0x80000006;
    public static final int ERR_SHUTDOWN = 0x80000007;
    public static final int ERR_BLOCK_SIZE_REQD = 0x80000008;
    public static final int ERR_TOO_BIG = 0x80000009;

    private OptionReplyType() {}

    /** Whether the reply type is an error. */
    public static boolean isError(int replyType) {
        return replyType < 0;
    }
}
