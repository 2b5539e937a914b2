package io.siphon.cli;

import io.siphon.api.SiphonException;
import io.siphon.format.ImageFormatException;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import picocli.CommandLine;

/**
 * How failures reach the user: one line on stderr starting {@code siphon:}, the command's exit
 * status, and a stack trace only with {@code --debug}.
 */
public final class Failures implements CommandLine.IExecutionExceptionHandler {
    private final boolean debug;

    public Failures(boolean debug) {
        this.debug = debug;
    }

    @Override
    public int handleExecutionException(
            Exception failure, CommandLine commandLine, CommandLine.ParseResult parseResult) {
        PrintWriter err = commandLine.getErr();
        err.println("siphon: " + describe(failure));
        if (debug) {
            failure.printStackTrace(err);
        }
        err.flush();
        return failure instanceof CliException cli
                ? cli.exitCode()
                : commandLine.getCommandSpec().exitCodeOnExecutionException();
    }

    /** A bad option or argument: the problem, and where to find the command's help. */
    public static int usageError(CommandLine.ParameterException failure, String[] args) {
        CommandLine commandLine = failure.getCommandLine();
        PrintWriter err = commandLine.getErr();
        err.println("siphon: " + failure.getMessage());
        err.println("Try '" + commandLine.getCommandSpec().qualifiedName() + " --help' for more information.");
        err.flush();
        return commandLine.getCommandSpec().exitCodeOnInvalidInput();
    }

    /** The one-line description of {@code failure}, naming the file where there is one. */
    public static String describe(Throwable failure) {
        return switch (failure) {
            case CliException cli -> cli.getMessage();
            case SiphonException api -> api.getMessage();
            case ImageFormatException image ->
                // an error about no file in particular (an unknown format name) starts with an empty name
                image.file().toString().isEmpty() && image.getMessage().startsWith(": ")
                        ? image.getMessage().substring(2)
                        : image.getMessage();
            case NoSuchFileException missing -> missing.getFile() + ": no such file or directory";
            case AccessDeniedException denied -> denied.getFile() + ": permission denied";
            case FileAlreadyExistsException exists -> exists.getFile() + ": file already exists";
            case FileSystemException other -> other.getMessage();
            case IOException io -> io.getMessage() != null ? io.getMessage() : io.toString();
            case IllegalArgumentException bad -> bad.getMessage();
            default -> "internal error: " + failure + " (run with --debug for the stack trace)";
        };
    }
}
