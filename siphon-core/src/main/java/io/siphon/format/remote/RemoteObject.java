package io.siphon.format.remote;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * One object on a remote store (an NBD export, an HTTP resource, an S3 object), read by byte range.
 * Its size and version are fixed when it is opened; a read that finds the object changed fails with
 * {@link RemoteObjectException.Reason#CHANGED}. Thread-safe.
 */
public interface RemoteObject extends AutoCloseable {
    /** Where the object is. */
    RemoteLocation location();

    long sizeBytes();

    /**
     * What identifies this content on the store: an ETag, or size and modification time; for a store
     * that has neither (NBD), the size alone.
     */
    String version();

    /**
     * Fills {@code dst} with the bytes at {@code offsetBytes} (within the size), in one request where
     * the store allows. An unreachable store is an {@link RemoteObjectException} with reason {@code
     * UNAVAILABLE}, which the caller may retry.
     */
    void read(long offsetBytes, ByteBuffer dst) throws IOException;

    /**
     * A run of the object: {@code lengthBytes} that read as zeroes without being stored ({@code
     * zero}, a hole the store reports), or data.
     */
    record Run(long lengthBytes, boolean zero) {
        public Run {
            if (lengthBytes <= 0) {
                throw new IllegalArgumentException("a run has a positive length, got " + lengthBytes);
            }
        }
    }

    /**
     * The runs from {@code offsetBytes}, covering at least its first byte and at most {@code
     * lengthBytes} (within the size): the store's allocation where it reports one (NBD's
     * base:allocation); by default all is data. Unreachable as {@link #read}.
     */
    default List<Run> allocation(long offsetBytes, long lengthBytes) throws IOException {
        return List.of(new Run(lengthBytes, false));
    }

    @Override
    void close() throws IOException;
}
