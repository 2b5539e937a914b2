package io.siphon.cli;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;

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
            return commandLine(outWriter, errWriter, debug, commandsFor(args)).execute(args);
        } finally {
            outWriter.flush();
            errWriter.flush();
        }
    }

    /** A fresh command line with every command, writing to {@code out} and {@code err}; each runs one command. */
    public static CommandLine commandLine(PrintWriter out, PrintWriter err, boolean debug) {
        return commandLine(out, err, debug, SiphonCommand.COMMANDS);
    }

    private static CommandLine commandLine(PrintWriter out, PrintWriter err, boolean debug, List<Class<?>> commands) {
        CommandLine root = new CommandLine(new SiphonCommand());
        for (Class<?> command : commands) {
            root.addSubcommand(command);
        }
        return root.setCaseInsensitiveEnumValuesAllowed(true)
                .setOut(out)
                .setErr(err)
                .setParameterExceptionHandler(Failures::usageError)
                .setExecutionExceptionHandler(new Failures(debug));
    }

    /**
     * The commands {@code args} may run: the one it names, or every one when it names none (help, a
     * typing error, whose message lists them all). Building one command's model instead of thirty
     * is most of picocli's share of a command's start-up.
     */
    static List<Class<?>> commandsFor(String[] args) {
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (arg.equals("-c") || arg.equals("--connect")) {
                i++; // the URI
            } else if (!arg.startsWith("-")) {
                for (Class<?> command : SiphonCommand.COMMANDS) {
                    Command annotation = command.getAnnotation(Command.class);
                    if (annotation.name().equals(arg)
                            || List.of(annotation.aliases()).contains(arg)) {
                        return List.of(command);
                    }
                }
                return SiphonCommand.COMMANDS;
            }
        }
        return SiphonCommand.COMMANDS;
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
