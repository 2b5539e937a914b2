package io.siphon.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** scripts/siphon-completion.bash knows every command and option, and completes in a real bash. */
class CompletionScriptTest {
    /** Surefire runs in the module's directory; the script is at the repository root. */
    static final Path REPOSITORY = Path.of(System.getProperty("user.dir")).getParent();

    private static final Path SCRIPT = REPOSITORY.resolve("scripts/siphon-completion.bash");

    @Test
    void listsEveryOptionOfEveryCommand() throws Exception {
        String script = Files.readString(SCRIPT);
        CommandLine root =
                Main.commandLine(new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter()), false);
        for (List<String> path : CommandLineTest.allCommands()) {
            CommandLine command = root;
            for (String name : path) {
                command = command.getSubcommands().get(name);
            }
            if (!command.getSubcommands().isEmpty()) {
                String variable =
                        path.isEmpty() ? "_siphon_commands" : "_siphon_" + String.join("_", path) + "_commands";
                assertEquals(
                        new TreeSet<>(command.getSubcommands().keySet()), words(listed(script, variable)), variable);
                continue;
            }
            String variable = "_siphon_options_" + String.join("_", path);
            assertEquals(optionNames(command, false), words(listed(script, variable)), variable);
        }
        assertEquals(optionNames(root, true), words(listed(script, "_siphon_common_options")));
    }

    /** The command's own options (or only those every command inherits), '=' marking a value. */
    private static Set<String> optionNames(CommandLine command, boolean inheritedOnly) {
        Set<String> names = new TreeSet<>();
        for (CommandLine.Model.OptionSpec option : command.getCommandSpec().options()) {
            boolean everywhere = option.inherited() || option.scopeType() == CommandLine.ScopeType.INHERIT;
            if (everywhere == inheritedOnly) {
                for (String name : option.names()) {
                    names.add(name + (option.arity().max() > 0 ? "=" : ""));
                }
            }
        }
        return names;
    }

    private static Set<String> words(String list) {
        return list.isEmpty() ? Set.of() : new TreeSet<>(Arrays.asList(list.split(" ")));
    }

    private static String listed(String script, String variable) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(variable) + "=\"([^\"]*)\"")
                .matcher(script);
        assertTrue(m.find(), variable + " is not in the completion script");
        return m.group(1);
    }

    @Test
    void completesInBash() throws Exception {
        assertEquals(
                "create amend info check map measure compare convert commit rebase resize snapshot pull serve -h --help --debug --connect",
                complete("siphon", "image", ""));
        assertEquals("--inactive", complete("siphon", "-c", "embedded:///x", "list", "--i"));
        assertEquals("embedded:///", complete("siphon", "-c", "emb"));
        assertEquals("block-job block-job-2", complete("siphon", "event", "--event", "b"));
        assertEquals("leaks all", complete("siphon", "image", "check", "-r", ""));
        assertEquals("qcow2 qed", complete("siphon", "image", "create", "-f", "q"));
        assertEquals("qcow2 qed", complete("siphon", "image", "convert", "-O", "q"));
        assertEquals("--output=json", complete("siphon", "image", "map", "--output=j"));
        assertEquals("--backing-chain", complete("siphon", "image", "info", "--b"));
    }

    private static String complete(String... words) throws Exception {
        List<String> quoted = new ArrayList<>();
        for (String word : words) {
            quoted.add("'" + word + "'");
        }
        String program = "source '" + SCRIPT + "'; COMP_WORDS=(" + String.join(" ", quoted) + "); COMP_CWORD="
                + (words.length - 1) + "; _siphon; echo \"${COMPREPLY[*]}\"";
        Cli.Result result = Cli.run(REPOSITORY, "bash", "-c", program);
        assertEquals(0, result.status(), result.toString());
        return result.out().strip();
    }
}
