package io.siphon.nbd.protocol;

/** The error values a reply may carry (doc/proto.md, "Error values"), with their wire numbers. */
public enum NbdError {
    EPERM(1),
    EIO(5),
    ENOMEM(12),
    EINVAL(22),
    ENOSPC(28),
    EOVERFLOW(75),
    ENOTSUP(95),
    ESHUTDOWN(108);

    private final int code;

    NbdError(int code) {
        this.code = code;
    }

    /** The number on the wire. */
    public int code() {
        return code;
    }

    /** The name of wire error {@code code}, or the number itself for one this list lacks. */
    public static String describe(int code) {
        for (NbdError error : values()) {
            if (error.code == code) {
                return error.name();
            }
        }
        return "error " + code;
    }
}
