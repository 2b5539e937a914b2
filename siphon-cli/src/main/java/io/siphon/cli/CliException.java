package io.siphon.cli;

/** A failure to report to the user as one line, with the exit status the command ends with. */
final class CliException extends Exception {
    private final int exitCode;

    CliException(String message, int exitCode) {
        super(message);
        this.exitCode = exitCode;
    }

    CliException(String message) {
        this(message, 1);
    }

    int exitCode() {
        return exitCode;
    }
}
