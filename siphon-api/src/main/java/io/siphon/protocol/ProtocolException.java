package io.siphon.protocol;

import io.siphon.api.ErrorCode;
import io.siphon.api.SiphonException;

/** A message that does not follow the control protocol; says what and where (byte offset, field). */
public final class ProtocolException extends Exception {
    private static final long serialVersionUID = 1L;

    public ProtocolException(String message) {
        super(message);
    }

    /** As an API error of class {@link ErrorCode#PROTOCOL_ERROR}. */
    public SiphonException toSiphonException() {
        return new SiphonException(ErrorCode.PROTOCOL_ERROR, getMessage(), this);
    }
}
