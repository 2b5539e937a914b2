package io.siphon.qemu.qmp;

import io.siphon.api.SiphonException;
import java.util.Optional;

/**
 * QEMU refused a QMP command: its error class (GenericError, DeviceNotFound…) and description, as
 * the cause of the {@link SiphonException} the caller sees.
 */
public final class QmpErrorException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String command;
    private final String errorClass;
    private final String desc;

    QmpErrorException(String command, String errorClass, String desc) {
        super(command + ": " + desc + " (" + errorClass + ")");
        this.command = command;
        this.errorClass = errorClass;
        this.desc = desc;
    }

    /** The command QEMU refused. */
    public String command() {
        return command;
    }

    /** QEMU's error class, e.g. {@code GenericError}. */
    public String errorClass() {
        return errorClass;
    }

    /** QEMU's human-readable description. */
    public String desc() {
        return desc;
    }

    /** The QMP error behind {@code e}, when QEMU refused a command. */
    public static Optional<QmpErrorException> of(SiphonException e) {
        return e.getCause() instanceof QmpErrorException q ? Optional.of(q) : Optional.empty();
    }
}
