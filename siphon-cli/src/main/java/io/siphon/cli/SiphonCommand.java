package io.siphon.cli;

import io.siphon.cli.demo.DemoCommand;
import io.siphon.cli.domain.AutostartCommand;
import io.siphon.cli.domain.BlockjobCommand;
import io.siphon.cli.domain.BlockpullCommand;
import io.siphon.cli.domain.Connections;
import io.siphon.cli.domain.DefineCommand;
import io.siphon.cli.domain.DestroyCommand;
import io.siphon.cli.domain.DomblkinfoCommand;
import io.siphon.cli.domain.DomblklistCommand;
import io.siphon.cli.domain.DomblkstatCommand;
import io.siphon.cli.domain.DominfoCommand;
import io.siphon.cli.domain.DomstateCommand;
import io.siphon.cli.domain.DumpxmlCommand;
import io.siphon.cli.domain.EventCommand;
import io.siphon.cli.domain.ListCommand;
import io.siphon.cli.domain.ShutdownCommand;
import io.siphon.cli.domain.StartCommand;
import io.siphon.cli.domain.UndefineCommand;
import io.siphon.cli.domain.UriCommand;
import io.siphon.cli.image.ImageCommand;
import io.siphon.daemon.DaemonMain;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/** The {@code siphon} command: its subcommands ({@link #COMMANDS}), and the options every command takes. */
@Command(
        name = "siphon",
        description = "Layered virtual disks: thin clones, copy-on-read and block pull.",
        versionProvider = VersionCommand.Provider.class,
        exitCodeOnInvalidInput = 1,
        synopsisSubcommandLabel = "COMMAND")
final class SiphonCommand {
    /**
     * The commands, in the order help lists them. Not the annotation's {@code subcommands}: picocli
     * builds the model of each of those when the root is built, and a command line needs only the
     * one it runs ({@link Main#run}).
     */
    static final List<Class<?>> COMMANDS = List.of(
            ImageCommand.class,
            DemoCommand.class,
            DefineCommand.class,
            UndefineCommand.class,
            StartCommand.class,
            ShutdownCommand.class,
            DestroyCommand.class,
            ListCommand.class,
            DominfoCommand.class,
            DomstateCommand.class,
            DomblklistCommand.class,
            DomblkinfoCommand.class,
            DomblkstatCommand.class,
            DumpxmlCommand.class,
            AutostartCommand.class,
            BlockpullCommand.class,
            BlockjobCommand.class,
            EventCommand.class,
            UriCommand.class,
            VersionCommand.class,
            DaemonMain.class);

    @Option(
            names = {"-h", "--help"},
            usageHelp = true,
            scope = ScopeType.INHERIT,
            description = "Show this help and exit.")
    boolean help;

    @Option(
            names = {"-v", "--version"},
            versionHelp = true,
            description = "Print the version and exit.")
    boolean version;

    /** Read by {@link Main} before parsing; declared here so that it is accepted and documented. */
    @Option(
            names = "--debug",
            scope = ScopeType.INHERIT,
            description = "On an error, print the stack trace and log everything.")
    boolean debug;

    /**
     * Read by the domain commands through {@link Connections}: virsh's -c, before the command name
     * as in virsh; not inherited, since qemu-img's -c (convert, snapshot) is another option.
     */
    @Option(
            names = "-c",
            paramLabel = "URI",
            description = "Connect to URI (embedded:///DIR, siphon:///session, siphon+unix:///SOCKET,"
                    + " siphon+tls://HOST:PORT/); default $SIPHON_DEFAULT_URI, else siphon:///session.")
    String connectShort;

    /** As -c, and accepted after the command name too. */
    @Option(
            names = "--connect",
            paramLabel = "URI",
            scope = ScopeType.INHERIT,
            description = "As -c, before or after the command name.")
    String connect;
}
