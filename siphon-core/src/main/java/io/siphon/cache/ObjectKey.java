package io.siphon.cache;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Objects;

/**
 * Which object, in which version, the cached chunks belong to. A changed object (another ETag, or
 * another size or modification time) is another key, so its chunks never mix with the old ones.
 *
 * @param identity where the object is, canonically (its URL)
 * @param version what the store says identifies this content (ETag, or size and mtime)
 * @param sizeBytes the object's size
 */
public record ObjectKey(String identity, String version, long sizeBytes) {
    public ObjectKey {
        Objects.requireNonNull(identity, "identity");
        Objects.requireNonNull(version, "version");
        if (sizeBytes < 0) {
            throw new IllegalArgumentException("negative object size " + sizeBytes + " for " + identity);
        }
    }

    /** The key's directory name in a cache directory: a SHA-256 of all three fields. */
    String directoryName() {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update((identity + "\n" + version + "\n" + sizeBytes).getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(sha.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK lacks SHA-256", e);
        }
    }
}
