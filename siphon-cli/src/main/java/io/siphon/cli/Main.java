package io.siphon.cli;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import picocli.CommandLine;

/** Entry point of the {@code siphon} command. */
public final class Main {
    private Main() {}

    /** Runs the command line and exits with its status. */
    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /**
     * Runs one command line, writing to {@code out} and {@code err}, and returns its exit status; for
     * tests and embedding. Not thread-safe across concurrent calls (logging is configured globally).
     */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        boolean debug = wantsDebug(args);
        CliLogging.configure(debug);
        PrintWriter outWriter = new PrintWriter(out, true, StandardCharsets.UTF_8);
        PrintWriter errWriter = new PrintWriter(err, true, StandardCharsets.UTF_8);
        try {
            return commandLine(outWriter, errWriter, debug).execute(args);
        } finally {
            outWriter.flush();
            errWriter.flush();
        }
    }

    /** A fresh command line writing to {@code out} and {@code err}; each runs one command. */
    public static CommandLine commandLine(PrintWriter out, PrintWriter err, boolean debug) {
        return new CommandLine(new SiphonCommand())
                .setCaseInsensitiveEnumValuesAllowed(true)
                .setOut(out)
                .setErr(err)
                .setParameterExceptionHandler(Failures::usageError)
                .setExecutionExceptionHandler(new Failures(debug));
    }

    /**
     * Whether {@code --debug} is among the options; read before parsing so that even a failure while
     * parsing can show its stack trace.
     */
    private static boolean wantsDebug(String[] args) {
        for (String arg : args) {
            if (arg.equals("--")) {
                return false;
            }
            if (arg.equals("--debug")) {
                return true;
            }
        }
        return false;
    }
}
