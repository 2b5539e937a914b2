package io.siphon.format.qcow2;

import io.siphon.format.ImageFormatException;
import io.siphon.format.ImageFormatException.Reason;
import java.nio.file.Path;

/** Typed errors naming the image file, the qcow2 field and the offending value. */
final class Errors {
    private Errors() {}

    static ImageFormatException malformed(Path file, String field, String detail) {
        return new ImageFormatException(Reason.MALFORMED, file, field, detail);
    }

    static ImageFormatException unsupported(Path file, String field, String detail) {
        return new ImageFormatException(Reason.UNSUPPORTED, file, field, detail);
    }

    static ImageFormatException refused(Path file, String field, String detail) {
        return new ImageFormatException(Reason.REFUSED, file, field, detail);
    }

    static String hex(long value) {
        return "0x" + Long.toHexString(value);
    }
}
