package io.siphon.format;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Read-only bytes that an image can be opened over instead of a host file: a remote object seen
 * through the chunk cache. Thread-safe.
 */
public interface ByteSource extends AutoCloseable {
    /** The name to show in errors and {@code info} (a URL, or QEMU's {@code json:} name). */
    String name();

    /** The object's size in bytes, fixed for as long as the source is open. */
    long sizeBytes();

    /** Reads exactly {@code dst.remaining()} bytes at {@code offsetBytes}, which lie within the size. */
    void read(long offsetBytes, ByteBuffer dst) throws IOException;

    @Override
    void close() throws IOException;
}
