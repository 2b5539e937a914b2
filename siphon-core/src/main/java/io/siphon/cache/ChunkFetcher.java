package io.siphon.cache;

import java.io.IOException;
import java.nio.ByteBuffer;

/** Fetches a byte range of an object from where it lives, in one request. */
@FunctionalInterface
public interface ChunkFetcher {
    /** Fills {@code dst} (its remaining bytes) from the object at {@code offsetBytes}. */
    void fetch(long offsetBytes, ByteBuffer dst) throws IOException;
}
