package io.siphon.nbd.protocol;

/** Structured reply chunk types (doc/proto.md, "Structured reply types"). */
public final class ChunkType {
    public static final int NONE = 0;
    public static final int OFFSET_DATA = 1;
    public static final int OFFSET_HOLE = 2;
    public static final int BLOCK_STATUS = 5;
    public static final int ERROR = 0x8001;
    public static final int ERROR_OFFSET = 0x8002;
    /** Chunk flag: this is the last chunk of the reply. */
    public static final int FLAG_DONE = 1;

    private ChunkType() {}

    /** Whether a chunk type reports an error. */
    public static boolean isError(int type) {
        return (type & 0x8000) != 0;
    }
}
