package io.siphon.nbd.protocol;

/** The magic numbers that start each NBD message (doc/proto.md, "Protocol phases"). */
public final class NbdMagic {
    /** "NBDMAGIC": the first eight bytes the server sends. */
    public static final long INIT = 0x4e42444d41474943L;
    /** "IHAVEOPT": the server's newstyle marker and the start of every option request. */
    public static final long OPTION = 0x49484156454F5054L;
    /** Start of every option reply. */
    public static final long OPTION_REPLY = 0x3e889045565a9L;
    /** Start of every transmission request. */
    public static final int REQUEST = 0x25609513;
    /** Start of a simple reply. */
    public static final int SIMPLE_REPLY = 0x67446698;
    /** Start of a structured reply chunk. */
    public static final int STRUCTURED_REPLY = 0x668e33ef;

    private NbdMagic() {}
}
