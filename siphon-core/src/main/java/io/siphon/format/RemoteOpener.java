package io.siphon.format;

import java.io.IOException;

/**
 * Opens backing images that are not host files (NBD, HTTP(S), S3 names). {@code
 * io.siphon.format.remote} provides the implementation; this interface lets the chain opener call it
 * without depending on it.
 */
public interface RemoteOpener {
    /** Opens the remote image {@code reference} names, read-only, as one image without its backing. */
    Image open(BackingReference reference, OpenOptions options) throws IOException;
}
