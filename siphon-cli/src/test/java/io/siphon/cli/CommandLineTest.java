package io.siphon.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** What every command shares: --help, usage errors, exit statuses. */
class CommandLineTest {
    /** Every command's name path, e.g. [image, create]. */
    static List<List<String>> allCommands() {
        List<List<String>> commands = new ArrayList<>();
        collect(
                Main.commandLine(new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter()), false),
                new ArrayList<>(),
                commands);
        return commands;
    }

    private static void collect(CommandLine command, List<String> path, List<List<String>> into) {
        into.add(List.copyOf(path));
        command.getSubcommands().forEach((name, sub) -> {
            List<String> subPath = new ArrayList<>(path);
            subPath.add(name);
            collect(sub, subPath, into);
        });
    }

    @Test
    void everyCommandHasHelp() {
        List<List<String>> commands = allCommands();
        assertTrue(commands.size() >= 9, commands.toString());
        for (List<String> command : commands) {
            List<String> args = new ArrayList<>(command);
            args.add("--help");
            Cli.Result result = Cli.siphon(args.toArray(String[]::new));
            assertEquals(0, result.status(), args.toString());
            assertTrue(result.out().startsWith("Usage: siphon"), result.out());
            assertEquals("", result.err());
        }
    }

    @Test
    void unknownOptionIsAUsageError() {
        Cli.Result result = Cli.siphon("image", "info", "--frobnicate", "x");
        assertEquals(1, result.status());
        assertEquals(
                "siphon: Unknown option: '--frobnicate'\nTry 'siphon image info --help' for more information.\n",
                result.err());
    }

    @Test
    void unknownCommandAndMissingCommandAreUsageErrors() {
        Cli.Result unknown = Cli.siphon("image", "frobnicate", "x", "1G");
        assertEquals(1, unknown.status());
        assertTrue(unknown.err().startsWith("siphon: Unmatched arguments"), unknown.err());
        Cli.Result missing = Cli.siphon("image");
        assertEquals(1, missing.status());
        assertTrue(missing.err().startsWith("siphon: Missing required subcommand"), missing.err());
    }

    @Test
    void daemonHelpShowsEveryOptionAndAPartialTlsListenerIsAUsageError() {
        Cli.Result help = Cli.siphon("daemon", "--help");
        assertEquals(0, help.status());
        for (String option : List.of(
                "--state-dir", "--socket", "--ro-socket", "--tls-listen", "--tls-cert", "--tls-key", "--tls-ca")) {
            assertTrue(help.out().contains(option), option + " missing from\n" + help.out());
        }
        Cli.Result partial = Cli.siphon("daemon", "--state-dir", "x", "--tls-listen", "127.0.0.1:0", "--tls-key", "k");
        assertEquals(1, partial.status());
        assertTrue(partial.err().startsWith("siphon: Error: Missing required argument"), partial.err());
        assertTrue(partial.err().contains("--tls-cert"), partial.err());
    }

    @Test
    void outputTakesOnlyHumanOrJson() {
        Cli.Result result = Cli.siphon("image", "map", "--output=xml", "x");
        assertEquals(1, result.status());
        assertTrue(result.err().contains("'--output'"), result.err());
    }
}
