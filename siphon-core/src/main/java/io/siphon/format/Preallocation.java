package io.siphon.format;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;

/**
 * {@code -o preallocation=}: how much of a new image is allocated up front, as qemu-img's modes.
 * {@code METADATA} allocates the tables and the data clusters without writing them (qcow2 only);
 * {@code FALLOC} also allocates the data's blocks in the file; {@code FULL} writes zeroes there.
 */
public enum Preallocation {
    OFF,
    METADATA,
    FALLOC,
    FULL;

    /**
     * The mode {@code value} names ({@code off} when absent). An unknown name is refused with
     * {@code unknownValue}'s words (qemu-img's differ per format).
     */
    public static Preallocation parse(Path path, Optional<String> value, String unknownValue)
            throws ImageFormatException {
        if (value.isEmpty()) {
            return OFF;
        }
        try {
            return valueOf(value.get().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new ImageFormatException(ImageFormatException.Reason.REFUSED, path, "", unknownValue);
        }
    }

    /** qemu-img's refusal of a mode a format does not have. */
    public ImageFormatException unsupported(Path path) {
        return new ImageFormatException(
                ImageFormatException.Reason.UNSUPPORTED,
                path,
                "",
                "Unsupported preallocation mode: " + name().toLowerCase(Locale.ROOT));
    }
}
