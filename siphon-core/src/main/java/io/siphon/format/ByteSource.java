package io.siphon.format;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.OptionalLong;

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

    /**
     * The first offset at or after {@code offsetBytes} that holds data, as {@code SEEK_DATA}: empty
     * when only zero ranges follow or {@code offsetBytes} is at or past the end. By default all is data.
     */
    default OptionalLong nextData(long offsetBytes) throws IOException {
        return offsetBytes < sizeBytes() ? OptionalLong.of(offsetBytes) : OptionalLong.empty();
    }

    /**
     * The first offset at or after {@code offsetBytes} of a range that reads as zeroes, the end
     * counting as one, as {@code SEEK_HOLE}; empty at or past the end. By default only the end.
     */
    default OptionalLong nextHole(long offsetBytes) throws IOException {
        return offsetBytes < sizeBytes() ? OptionalLong.of(sizeBytes()) : OptionalLong.empty();
    }

    @Override
    void close() throws IOException;
}
