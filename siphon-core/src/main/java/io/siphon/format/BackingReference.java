package io.siphon.format;

import java.util.Objects;
import java.util.Optional;

/**
 * The backing link as an image header stores it: the name exactly as written (relative names are
 * resolved against the directory of the image that holds them) and the format, when recorded.
 */
public record BackingReference(String name, Optional<String> format) {
    public BackingReference {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(format, "format");
        if (name.isEmpty()) {
            throw new IllegalArgumentException("empty backing file name");
        }
    }

    public static BackingReference of(String name, String format) {
        return new BackingReference(name, Optional.of(format));
    }
}
