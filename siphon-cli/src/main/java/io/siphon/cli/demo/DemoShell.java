package io.siphon.cli.demo;

import io.siphon.cli.CliException;
import io.siphon.cli.Main;
import java.io.PrintWriter;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;

/** How the demos show a step: a line of text, or a siphon command line run as a user types it. Not thread-safe. */
final class DemoShell {
    private final PrintWriter out;
    private final PrintWriter err;

    DemoShell(PrintWriter out, PrintWriter err) {
        this.out = out;
        this.err = err;
    }

    void say(String line) {
        out.println(line);
        out.flush();
    }

    /** Runs one siphon command line as a user would, showing it first; a different exit status fails the demo. */
    void siphon(int expectedStatus, String... args) throws CliException {
        say("$ siphon " + String.join(" ", quoted(args)));
        int status = Main.commandLine(out, err, false).execute(args);
        out.flush();
        err.flush();
        if (status != expectedStatus) {
            throw new CliException("demo step 'siphon " + String.join(" ", args) + "' ended with status " + status
                    + ", expected " + expectedStatus);
        }
    }

    private static List<String> quoted(String[] args) {
        List<String> quoted = new ArrayList<>();
        for (String arg : args) {
            quoted.add(arg.isEmpty() || arg.contains(" ") ? "'" + arg + "'" : arg);
        }
        return quoted;
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}
