package io.siphon.format.remote;

import java.io.IOException;
import java.util.Set;

/**
 * Opens remote objects of some URL schemes. Found through {@link java.util.ServiceLoader}: HTTP(S) is
 * built in; NBD comes from siphon-nbd and S3 from siphon-s3, which register theirs.
 */
public interface RemoteObjectProvider {
    /** The URL schemes it opens ({@code http}, {@code nbd+unix}...). */
    Set<String> schemes();

    /**
     * Connects to the object and reads its size and version. A missing object, refused credentials or
     * an unreachable store is a {@link RemoteObjectException} naming the location and the reason.
     */
    RemoteObject open(RemoteLocation location) throws IOException;
}
