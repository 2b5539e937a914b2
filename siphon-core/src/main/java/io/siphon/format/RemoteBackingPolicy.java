package io.siphon.format;

import java.util.Objects;
import java.util.Optional;

/**
 * Which backing names a chain may follow across the host boundary. By default none: a local image
 * that names a remote backing (NBD, HTTP(S), S3), or a remote image that names a local file, is
 * refused, so that a header written by someone else cannot make Siphon connect out or read a host
 * file. Each direction is allowed separately.
 *
 * @param localMayNameRemote a local image may name a remote backing (needs {@code opener})
 * @param remoteMayNameLocal a remote image may name a local file by absolute path
 * @param opener what opens remote images
 */
public record RemoteBackingPolicy(
        boolean localMayNameRemote, boolean remoteMayNameLocal, Optional<RemoteOpener> opener) {
    /** Local files only. */
    public static final RemoteBackingPolicy LOCAL_ONLY = new RemoteBackingPolicy(false, false, Optional.empty());

    public RemoteBackingPolicy {
        Objects.requireNonNull(opener, "opener");
        if (localMayNameRemote && opener.isEmpty()) {
            throw new IllegalArgumentException("allowing remote backings needs a remote opener");
        }
    }

    /** Local images may name remote backings, opened by {@code opener}; remote ones may not name files. */
    public static RemoteBackingPolicy allowRemote(RemoteOpener opener) {
        return new RemoteBackingPolicy(true, false, Optional.of(opener));
    }
}
