package io.siphon.protocol;

import com.fasterxml.jackson.databind.JsonNode;
import io.siphon.api.ErrorCode;
import io.siphon.api.SiphonException;
import java.util.Optional;

/**
 * A message that does not follow the control protocol; says what and where (offset, member). A
 * command that was read far enough to have an id but names no command or has bad arguments is one
 * too, of class {@link ErrorCode#UNKNOWN_COMMAND} or {@link ErrorCode#INVALID_ARG}, with that id.
 */
public final class ProtocolException extends Exception {
    private static final long serialVersionUID = 1L;

    private final ErrorCode code;
    private final transient JsonNode id;

    public ProtocolException(String message) {
        this(ErrorCode.PROTOCOL_ERROR, message, Optional.empty());
    }

    ProtocolException(ErrorCode code, String message, Optional<JsonNode> id) {
        super(message);
        this.code = code;
        this.id = id.orElse(null);
    }

    /** The error reply a server sends for this message. */
    public ErrorReply toReply() {
        return new ErrorReply(code.name(), getMessage(), Optional.ofNullable(id));
    }

    /** As an API error of this class. */
    public SiphonException toSiphonException() {
        return new SiphonException(code, getMessage(), this);
    }
}
