package io.siphon.cli;

import io.siphon.api.SiphonVersion;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Help;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

/**
 * Man pages in troff ({@code man -l} renders them) from picocli's model of the command line, so that
 * they say what {@code --help} says: {@code siphon.1}, one {@code siphon-COMMAND.1} per command (a
 * command's subcommands, as image's, are sections of its page) and {@code siphon-daemon.8}.
 * {@code scripts/dist} runs it; {@code main(DIR)} writes the pages into DIR/man1 and DIR/man8.
 */
public final class ManPages {
    private static final String DAEMON = "daemon";

    private ManPages() {}

    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            System.err.println("usage: ManPages DIR");
            System.exit(1);
        }
        for (Map.Entry<Path, String> page : pages(Path.of(args[0])).entrySet()) {
            Files.createDirectories(page.getKey().getParent());
            Files.writeString(page.getKey(), page.getValue(), StandardCharsets.UTF_8);
        }
    }

    /** Every page under {@code dir}, by file. */
    public static Map<Path, String> pages(Path dir) {
        StringWriter discard = new StringWriter();
        CommandLine root = Main.commandLine(new PrintWriter(discard), new PrintWriter(discard), false);
        Map<Path, String> pages = new java.util.LinkedHashMap<>();
        pages.put(dir.resolve("man1").resolve("siphon.1"), rootPage(root));
        for (Map.Entry<String, CommandLine> command : root.getSubcommands().entrySet()) {
            String name = command.getKey();
            int section = name.equals(DAEMON) ? 8 : 1;
            pages.put(
                    dir.resolve("man" + section).resolve("siphon-" + name + "." + section),
                    commandPage(command.getValue(), section));
        }
        return pages;
    }

    private static String rootPage(CommandLine root) {
        CommandSpec spec = root.getCommandSpec();
        StringBuilder page = header("siphon", 1);
        page.append(".SH NAME\nsiphon \\- ")
                .append(text(first(spec.usageMessage().description())))
                .append('\n');
        synopsis(page, spec);
        page.append(".SH DESCRIPTION\n")
                .append(text(String.join(" ", spec.usageMessage().description())))
                .append(
                        "\nEach command has its own page, listed below; \\fBsiphon\\fR \\fICOMMAND\\fR \\fB\\-\\-help\\fR"
                                + " prints the same.\n");
        options(page, spec);
        page.append(".SH COMMANDS\n");
        List<String> seeAlso = new ArrayList<>();
        for (Map.Entry<String, CommandLine> command : root.getSubcommands().entrySet()) {
            int section = command.getKey().equals(DAEMON) ? 8 : 1;
            page.append(".TP\n.B ")
                    .append(text(command.getKey()))
                    .append('\n')
                    .append(text(first(
                            command.getValue().getCommandSpec().usageMessage().description())))
                    .append(" See \\fBsiphon\\-")
                    .append(text(command.getKey()))
                    .append("\\fR(")
                    .append(section)
                    .append(").\n");
            seeAlso.add("\\fBsiphon\\-" + text(command.getKey()) + "\\fR(" + section + ")");
        }
        page.append(".SH ENVIRONMENT\n.TP\n.B SIPHON_DEFAULT_URI\nThe URI the domain commands connect to without"
                + " \\fB\\-c\\fR (default siphon:///session).\n.TP\n.B SIPHON_AOT\n0 runs without the JDK's start-up"
                + " cache.\n");
        page.append(".SH SEE ALSO\n")
                .append(String.join(",\n", seeAlso))
                .append(",\n\\fBqemu\\-img\\fR(1)," + " \\fBvirsh\\fR(1)\n");
        return page.toString();
    }

    private static String commandPage(CommandLine command, int section) {
        CommandSpec spec = command.getCommandSpec();
        String name = "siphon-" + spec.name();
        StringBuilder page = header(name, section);
        page.append(".SH NAME\n")
                .append(text(name))
                .append(" \\- ")
                .append(text(first(spec.usageMessage().description())))
                .append('\n');
        synopsis(page, spec);
        page.append(".SH DESCRIPTION\n")
                .append(text(String.join(" ", spec.usageMessage().description())))
                .append('\n');
        parameters(page, spec);
        options(page, spec);
        for (Map.Entry<String, CommandLine> sub : command.getSubcommands().entrySet()) {
            CommandSpec subSpec = sub.getValue().getCommandSpec();
            page.append(".SH \"")
                    .append(text(spec.name() + " " + sub.getKey()).toUpperCase(java.util.Locale.ROOT))
                    .append("\"\n");
            page.append(".nf\n")
                    .append(text(synopsisLine(subSpec)))
                    .append("\n.fi\n.PP\n")
                    .append(text(String.join(" ", subSpec.usageMessage().description())))
                    .append('\n');
            items(page, subSpec);
        }
        if (spec.name().equals(DAEMON)) {
            page.append(".SH FILES\n.TP\n.I /etc/siphon/daemon.conf\nThe configuration file the systemd unit passes to"
                    + " \\fB\\-\\-config\\fR: one \\fIkey\\fR = \\fIvalue\\fR a line, the keys being the long options"
                    + " above without their dashes.\n.TP\n.I STATE/log/siphon\\-daemon.log\nThe log, mode 0600, rotated"
                    + " daily and by size.\n.TP\n.I /lib/systemd/system/siphon.service\nThe systemd unit"
                    + " (Type=notify).\n");
        }
        page.append(".SH SEE ALSO\n\\fBsiphon\\fR(1)\n");
        return page.toString();
    }

    private static StringBuilder header(String name, int section) {
        return new StringBuilder()
                .append(".\\\" generated from the siphon command line's picocli model; do not edit\n")
                .append(".TH \"")
                .append(name.toUpperCase(java.util.Locale.ROOT).replace("-", "\\-"))
                .append("\" \"")
                .append(section)
                .append("\" \"")
                .append(LocalDate.now())
                .append("\" \"siphon ")
                .append(SiphonVersion.current())
                .append("\" \"Siphon Manual\"\n");
    }

    private static void synopsis(StringBuilder page, CommandSpec spec) {
        page.append(".SH SYNOPSIS\n.nf\n").append(text(synopsisLine(spec))).append("\n.fi\n");
    }

    private static String synopsisLine(CommandSpec spec) {
        Help help = new Help(spec, Help.defaultColorScheme(Help.Ansi.OFF));
        return help.synopsis(0).strip();
    }

    private static void parameters(StringBuilder page, CommandSpec spec) {
        if (!spec.positionalParameters().isEmpty()) {
            page.append(".SH ARGUMENTS\n");
            positional(page, spec);
        }
    }

    private static void options(StringBuilder page, CommandSpec spec) {
        if (!spec.options().isEmpty()) {
            page.append(".SH OPTIONS\n");
            optionItems(page, spec);
        }
    }

    private static void items(StringBuilder page, CommandSpec spec) {
        positional(page, spec);
        optionItems(page, spec);
    }

    private static void positional(StringBuilder page, CommandSpec spec) {
        for (PositionalParamSpec parameter : spec.positionalParameters()) {
            if (!parameter.hidden()) {
                page.append(".TP\n.I ")
                        .append(text(parameter.paramLabel()))
                        .append('\n')
                        .append(text(String.join(" ", parameter.description())))
                        .append('\n');
            }
        }
    }

    private static void optionItems(StringBuilder page, CommandSpec spec) {
        for (OptionSpec option : spec.options()) {
            if (option.hidden()) {
                continue;
            }
            page.append(".TP\n");
            List<String> names = new ArrayList<>();
            for (String name : option.names()) {
                names.add("\\fB" + text(name) + "\\fR");
            }
            page.append(String.join(", ", names));
            if (option.arity().max() > 0) {
                page.append(" \\fI").append(text(option.paramLabel())).append("\\fR");
            }
            page.append('\n')
                    .append(text(String.join(" ", option.description())))
                    .append('\n');
        }
    }

    private static String first(String[] lines) {
        if (lines.length == 0) {
            return "";
        }
        String line = lines[0];
        int stop = line.indexOf(". ");
        return stop > 0 ? line.substring(0, stop + 1) : line;
    }

    /** Plain text as troff: backslashes and dashes escaped, no line starting a request. */
    private static String text(String plain) {
        String escaped = plain.replace("\\", "\\e").replace("-", "\\-").replace("%n", "\n");
        StringBuilder out = new StringBuilder();
        for (String line : escaped.split("\n", -1)) {
            if (!out.isEmpty()) {
                out.append('\n');
            }
            out.append(line.startsWith(".") || line.startsWith("'") ? "\\&" + line : line);
        }
        return out.toString();
    }
}
