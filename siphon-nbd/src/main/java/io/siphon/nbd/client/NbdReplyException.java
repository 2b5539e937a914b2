package io.siphon.nbd.client;

import io.siphon.nbd.protocol.NbdError;
import java.io.IOException;

/** The server answered a request or option with an error; the connection stays usable. */
public final class NbdReplyException extends IOException {
    private final int errorCode;

    public NbdReplyException(int errorCode, String message) {
        super(message);
        this.errorCode = errorCode;
    }

    /** The wire error ({@link NbdError} code) for a request, or the option reply type for an option. */
    public int errorCode() {
        return errorCode;
    }

    /** The request error's name (EPERM, EINVAL…), or "error N" for one the spec does not list. */
    public String errorName() {
        return NbdError.describe(errorCode);
    }
}
