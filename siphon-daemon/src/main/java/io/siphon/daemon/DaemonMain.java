package io.siphon.daemon;

import io.siphon.api.SiphonVersion;
import io.siphon.daemon.logging.DaemonLog;
import io.siphon.daemon.service.ConfigFile;
import io.siphon.daemon.service.SystemdNotify;
import io.siphon.daemon.web.WebConsole;
import io.siphon.domain.StateDirectory;
import io.siphon.nbd.server.InFlightBudget;
import io.siphon.util.CrashPoints;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;

/**
 * {@code siphon daemon}: writes its pid to {@code DIR/daemon.pid} and serves the control protocol
 * until SIGTERM or SIGINT, then stops every domain cleanly (running pulls are recorded and resume
 * when their domain starts again). The same command is the {@code siphon} CLI's subcommand and,
 * through {@link #main}, the session daemon's process.
 */
@Command(
        name = "daemon",
        description = {
            "Run the daemon in the foreground until SIGTERM or Ctrl-C: it serves the control protocol on"
                    + " DIR/siphon.sock (read-only: siphon-ro.sock), and runs domains and their jobs."
        },
        exitCodeOnInvalidInput = 1)
public final class DaemonMain implements Callable<Integer> {
    private static final Logger LOG = LoggerFactory.getLogger(DaemonMain.class);

    @Option(
            names = "--config",
            paramLabel = "FILE",
            description = "Read options from FILE, one 'key = value' a line, the keys being these long options"
                    + " without '--' (see docs/daemon.md); options on the command line override it.")
    Optional<Path> config = Optional.empty();

    /** Required, on the command line or in the configuration file: checked once both are read. */
    @Option(
            names = "--state-dir",
            paramLabel = "DIR",
            description = "Where definitions, job records and the log live (required).")
    Path stateDir;

    @Option(
            names = "--driver",
            paramLabel = "NAME",
            description = "What runs the domains: embedded (Siphon's engine, the default) or qemu (one"
                    + " qemu-storage-daemon per started domain, driven over QMP; it outlives the daemon).")
    String driver = Daemon.DEFAULT_DRIVER;

    @Option(
            names = "--socket",
            paramLabel = "PATH",
            description = "The read-write control socket, mode 0600 (default DIR/siphon.sock).")
    Optional<Path> socket = Optional.empty();

    @Option(
            names = "--ro-socket",
            paramLabel = "PATH",
            description = "The read-only control socket, mode 0666 (default DIR/siphon-ro.sock).")
    Optional<Path> readOnlySocket = Optional.empty();

    @Spec
    CommandSpec spec;

    @Option(
            names = "--nbd-buffer-memory",
            paramLabel = "MIB",
            description = "Memory that NBD requests in flight may hold, over every export and client, in MiB"
                    + " (default 256); while it is spent, requests wait unread.")
    long nbdBufferMemoryMib = InFlightBudget.DEFAULT_BYTES >> 20;

    @Option(
            names = "--log-level",
            paramLabel = "LEVEL",
            description = "The least severe level the log file records: error, warn, info (the default), debug"
                    + " or trace; warnings and errors also go to stderr.")
    String logLevel = "info";

    @Option(
            names = "--log-file",
            paramLabel = "FILE",
            description =
                    "The log file, mode 0600, rotated daily and by size (default DIR/log/" + DaemonLog.FILE_NAME + ").")
    Optional<Path> logFile = Optional.empty();

    @Option(
            names = "--log-max-size",
            paramLabel = "MIB",
            description = "Rotate the log file when it reaches this many MiB (default 10).")
    long logMaxSizeMib = 10;

    @Option(
            names = "--log-max-days",
            paramLabel = "DAYS",
            description = "Keep rotated log files for this many days (default 14).")
    int logMaxDays = 14;

    @Option(
            names = "--profile-window",
            paramLabel = "SECONDS",
            description = "For how long after a domain starts its guests' reads are recorded into their"
                    + " templates' access profiles, which pulls in profile order copy first (default 60; 0"
                    + " records none; at most 3600).")
    long profileWindowSeconds = AccessProfiles.DEFAULT_RECORDING.toSeconds();

    /** Set on the instance that {@link #call} parsed from the configuration file and the command line together. */
    private boolean configMerged;

    // remote templates (issue 16): kept in their own class so this command's other options stay apart
    @Mixin
    RemoteBackingOptions remote = new RemoteBackingOptions();

    @ArgGroup(exclusive = false, heading = "Control over TCP with mutual TLS (all four together):%n")
    TlsOptions tls;

    @ArgGroup(exclusive = false, heading = "Web console and Prometheus metrics (off unless --http is given):%n")
    WebOptions web;

    /** The web console's options. */
    static final class WebOptions {
        @Option(
                names = "--http",
                paramLabel = "HOST:PORT",
                required = true,
                converter = HostPort.class,
                description = "Serve the web console and /metrics on HOST:PORT (port 0 picks a free one); use a"
                        + " loopback address unless the network may see the daemon. Write actions need the"
                        + " token the daemon logs at start.")
        InetSocketAddress address;
    }

    /** The TLS listener's options: given together or not at all. */
    static final class TlsOptions {
        @Option(
                names = "--tls-listen",
                paramLabel = "HOST:PORT",
                required = true,
                converter = HostPort.class,
                description = "Also listen on TCP HOST:PORT (port 0 picks a free one) with mutual TLS 1.3.")
        InetSocketAddress address;

        @Option(
                names = "--tls-cert",
                paramLabel = "FILE",
                required = true,
                description = "The daemon's certificate chain (PEM), the leaf first.")
        Path cert;

        @Option(
                names = "--tls-key",
                paramLabel = "FILE",
                required = true,
                description = "The daemon's unencrypted key (PEM: PKCS#8, PKCS#1 RSA or SEC1 EC).")
        Path key;

        @Option(
                names = "--tls-ca",
                paramLabel = "FILE",
                required = true,
                description = "The CA certificates (PEM) a client's certificate must chain to.")
        Path ca;
    }

    /** {@code HOST:PORT}, the host possibly a bracketed IPv6 address; the last colon splits. */
    static final class HostPort implements ITypeConverter<InetSocketAddress> {
        @Override
        public InetSocketAddress convert(String value) {
            int colon = value.lastIndexOf(':');
            if (colon <= 0) {
                throw new TypeConversionException("'" + value + "' is not HOST:PORT");
            }
            String host = value.substring(0, colon);
            if (host.startsWith("[") && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1);
            }
            int port;
            try {
                port = Integer.parseInt(value.substring(colon + 1));
            } catch (NumberFormatException e) {
                throw new TypeConversionException("port '" + value.substring(colon + 1) + "' is not a number");
            }
            if (port < 0 || port > 65535) {
                throw new TypeConversionException("port " + port + " is not in 0..65535");
            }
            return new InetSocketAddress(host, port);
        }
    }

    /** Starts the daemon and blocks until a stop signal has closed it; returns the exit status, 0. */
    @Override
    public Integer call() throws IOException, InterruptedException {
        return effective().serve();
    }

    /** This command with its configuration file applied (the command line overriding it); itself without one. */
    DaemonMain effective() {
        return config.isPresent() && !configMerged ? withConfigFile(config.get()) : this;
    }

    private int serve() throws IOException, InterruptedException {
        if (stateDir == null) {
            throw new ParameterException(
                    spec.commandLine(),
                    "Missing required option: '--state-dir=DIR' (on the command line or as state-dir in --config)");
        }
        DaemonLog log = daemonLog();
        Optional<Daemon.TlsListen> listen =
                Optional.ofNullable(tls).map(t -> new Daemon.TlsListen(t.address, t.cert, t.key, t.ca));
        try {
            InFlightBudget.configureProcess(Math.multiplyExact(nbdBufferMemoryMib, 1L << 20));
        } catch (IllegalArgumentException | ArithmeticException e) {
            throw new ParameterException(
                    spec.commandLine(),
                    "--nbd-buffer-memory " + nbdBufferMemoryMib + ": must be from 32 MiB (the largest request)");
        }
        // a crash test's child daemon halts at a named step of a state-file write (CrashPoints)
        StateDirectory.reportStepsTo(CrashPoints::reach);
        // the log file is opened once the state directory is this process's: a second daemon refused
        // on a locked directory says so on stderr, and never writes into the first one's log
        Daemon daemon = Daemon.start(stateDir, driver, socket, readOnlySocket, listen, engineSettings());
        try {
            log.install();
        } catch (RuntimeException e) {
            daemon.close();
            throw e;
        }
        LOG.info("siphon daemon {} on {} (driver {})", SiphonVersion.current(), stateDir, driver);
        Optional<WebConsole> console;
        try {
            console = Optional.ofNullable(web).map(w -> WebConsole.start(daemon.view(), w.address));
        } catch (RuntimeException e) {
            daemon.close();
            throw e;
        }
        Optional<SystemdNotify> systemd = SystemdNotify.fromEnvironment(System.getenv());
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            LOG.info("stopping");
            notify(systemd, "STOPPING=1");
            console.ifPresent(WebConsole::close);
            try {
                daemon.close();
            } catch (IOException e) {
                LOG.warn("stopping: {}", e.toString());
            }
            LOG.info("stopped");
            stopped.countDown();
        }));
        LOG.info("siphon daemon ready: {} (read-only {})", daemon.socket(), daemon.readOnlySocket());
        notify(
                systemd,
                "READY=1\nSTATUS=serving " + daemon.socket() + "\nMAINPID="
                        + ProcessHandle.current().pid());
        stopped.await();
        return 0;
    }

    /** The embedded engine's settings these options name; a bad value is a usage error. */
    private EngineSettings engineSettings() {
        try {
            return new EngineSettings(remote.settings(spec), Duration.ofSeconds(profileWindowSeconds));
        } catch (IllegalArgumentException e) {
            throw new ParameterException(
                    spec.commandLine(), "--profile-window " + profileWindowSeconds + ": " + e.getMessage());
        }
    }

    private DaemonLog daemonLog() {
        try {
            return new DaemonLog(
                    logFile.orElse(stateDir.resolve("log").resolve(DaemonLog.FILE_NAME)),
                    DaemonLog.parseLevel(logLevel),
                    Math.multiplyExact(logMaxSizeMib, 1L << 20),
                    logMaxDays);
        } catch (IllegalArgumentException | ArithmeticException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
    }

    private static void notify(Optional<SystemdNotify> systemd, String state) {
        systemd.ifPresent(notifier -> {
            try {
                notifier.send(state);
            } catch (IOException e) {
                LOG.warn("telling systemd {}: {}", state.lines().findFirst().orElse(state), e.getMessage());
            }
        });
    }

    /**
     * This command as the configuration file and the command line give it together: the file's
     * settings first, then the options given here, which override them.
     */
    private DaemonMain withConfigFile(Path file) {
        ConfigFile settings = ConfigFile.read(file, DaemonMain::configProblem);
        DaemonMain merged = new DaemonMain();
        CommandLine line = new CommandLine(merged).setOverwrittenOptionsAllowed(true);
        List<String> arguments = new ArrayList<>(settings.asArguments(key -> isFlag(line.getCommandSpec(), key)));
        for (OptionSpec option : spec.commandLine().getParseResult().matchedOptions()) {
            if (line.getCommandSpec().findOption(option.longestName()) == null) {
                continue; // the siphon command's own options (--debug, --connect), inherited here
            }
            if (option.originalStringValues().isEmpty()) {
                arguments.add(option.longestName()); // a flag given without a value
            }
            for (String value : option.originalStringValues()) {
                arguments.add(option.longestName() + "=" + value);
            }
        }
        merged.configMerged = true;
        line.parseArgs(arguments.toArray(String[]::new));
        return merged;
    }

    /** Why {@code key = value} is not a setting of this command, parsed alone as {@code --key=value}; empty if it is. */
    private static Optional<String> configProblem(String key, String value) {
        CommandLine alone = new CommandLine(new DaemonMain());
        if (key.equals("config") || alone.getCommandSpec().findOption("--" + key) == null) {
            return Optional.of("not an option of siphon daemon (see siphon daemon --help)");
        }
        if (isFlag(alone.getCommandSpec(), key)) {
            return value.equals("true") || value.equals("false")
                    ? Optional.empty()
                    : Optional.of("'" + value + "' is not true or false");
        }
        try {
            alone.parseArgs("--" + key + "=" + value);
        } catch (CommandLine.MissingParameterException othersOfItsGroup) {
            // e.g. tls-cert without the other TLS settings: the whole file and command line decide
        } catch (ParameterException e) {
            return Optional.of(e.getMessage());
        }
        return Optional.empty();
    }

    /** Whether {@code --key} is an option of {@code spec} that takes no value (set with {@code key = true} in a file). */
    private static boolean isFlag(CommandSpec spec, String key) {
        OptionSpec option = spec.findOption("--" + key);
        return option != null && option.arity().max() == 0;
    }

    /** The session daemon's process (and {@code java io.siphon.daemon.DaemonMain --help}). */
    public static void main(String[] args) {
        CommandLine command = new CommandLine(new DaemonMain());
        // the siphon CLI gives every subcommand its -h/--help; standalone, the command needs its own
        command.getCommandSpec()
                .addOption(OptionSpec.builder("-h", "--help")
                        .usageHelp(true)
                        .description("Show this help and exit.")
                        .build());
        command.setExecutionExceptionHandler((failure, line, parsed) -> {
            LOG.error("siphon daemon: {}", failure.toString(), failure);
            return 1;
        });
        System.exit(command.execute(args));
    }
}
