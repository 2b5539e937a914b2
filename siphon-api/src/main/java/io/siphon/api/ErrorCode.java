package io.siphon.api;

/** What went wrong, as a stable name that the control protocol carries as the error class. */
public enum ErrorCode {
    /** No domain has the given name or UUID. */
    NO_DOMAIN,
    /** A domain with that name or UUID is already defined. */
    DOMAIN_EXISTS,
    /** The domain has no disk with the given target or source path. */
    NO_DISK,
    /** The disk has no block job. */
    NO_JOB,
    /** The disk already has a block job. */
    JOB_EXISTS,
    /** The connection is read-only and the call would change something. */
    READ_ONLY,
    /** An argument is malformed or out of range. */
    INVALID_ARG,
    /** The call is not valid in the domain's or job's current state (e.g. start a running domain). */
    OPERATION_INVALID,
    /** The call was valid but failed while being carried out (I/O error, image error). */
    OPERATION_FAILED,
    /** The URI names no known driver, or the driver does not support the call. */
    NO_SUPPORT,
    /** The connection to the daemon could not be made or was lost. */
    CONNECTION_FAILED,
    /** The peer did not greet or answer within the connection's timeout (client side only). */
    OPERATION_TIMEOUT,
    /** A message did not follow the control protocol (malformed JSON, oversized message). */
    PROTOCOL_ERROR,
    /** The control protocol has no such command. */
    UNKNOWN_COMMAND,
    /** An error the daemon reported with a class this client does not know. */
    INTERNAL_ERROR;

    /** The code named {@code name}, or {@link #INTERNAL_ERROR} for a name this version does not know. */
    public static ErrorCode fromName(String name) {
        for (ErrorCode code : values()) {
            if (code.name().equals(name)) {
                return code;
            }
        }
        return INTERNAL_ERROR;
    }
}
