package io.siphon.cli;

/** A failure to report to the user as one line, with the exit status the command ends with. */
public final class CliException extends Exception {
    private final int exitCode;

    public CliException(String message, int exitCode) {
        super(message);
        this.exitCode = exitCode;
    }

    public CliException(String message) {
        this(message, 1);
    }

    public int exitCode() {
        return exitCode;
    }
}
