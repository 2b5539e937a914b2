package io.siphon.format;

import java.io.IOException;
import java.nio.file.Path;

/**
 * An image that cannot be opened or used as asked: malformed, unsupported, locked, or a broken
 * backing chain. The message names the file, the field and the value.
 */
public class ImageFormatException extends IOException {
    /** Why the image was refused. */
    public enum Reason {
        /** A field holds a value the specification does not allow, or points outside the file. */
        MALFORMED,
        /** A valid image that uses a feature Siphon does not implement. */
        UNSUPPORTED,
        /** The format could not be determined or is not known. */
        UNKNOWN_FORMAT,
        /** A backing file is missing, or the chain loops or is too deep. */
        BAD_CHAIN,
        /** Another process holds a conflicting lock. */
        LOCKED,
        /** A write or option was refused (read-only image, bad create option). */
        REFUSED
    }

    private final Reason reason;
    private final Path file;
    private final String field;

    public ImageFormatException(Reason reason, Path file, String field, String detail) {
        this(reason, file, field, detail, null);
    }

    public ImageFormatException(Reason reason, Path file, String field, String detail, Throwable cause) {
        super(file + ": " + (field.isEmpty() ? "" : field + ": ") + detail, cause);
        this.reason = reason;
        this.file = file;
        this.field = field;
    }

    public Reason reason() {
        return reason;
    }

    /** The image file the error is about. */
    public Path file() {
        return file;
    }

    /** The header field or structure at fault, or empty when the error is about the whole file. */
    public String field() {
        return field;
    }
}
