package io.siphon.api;

/** A failed API call: an {@link ErrorCode} and a message naming what and where. */
public final class SiphonException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final ErrorCode code;

    public SiphonException(ErrorCode code, String message) {
        super(message);
        this.code = code;
    }

    public SiphonException(ErrorCode code, String message, Throwable cause) {
        super(message, cause);
        this.code = code;
    }

    /** What kind of failure this is. */
    public ErrorCode code() {
        return code;
    }

    @Override
    public String toString() {
        return code + ": " + getMessage();
    }
}
