package io.siphon.cli.domain;

import io.siphon.api.BlockJobProgress;
import io.siphon.api.BlockJobType;
import io.siphon.api.Connection;
import io.siphon.api.Domain;
import io.siphon.api.PullFlag;
import io.siphon.api.PullOrder;
import io.siphon.api.PullOutage;
import io.siphon.api.PullPace;
import io.siphon.api.RebaseFlag;
import io.siphon.cli.CliException;
import io.siphon.cli.view.JobProgress;
import io.siphon.cli.view.ProgressDisplay;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code siphon blockpull DOMAIN DISK [BANDWIDTH]}: starts a block pull (virDomainBlockPull, or
 * virDomainBlockRebase with --base), optionally waiting for it with progress; or, with --step, copies
 * one increment.
 */
@Command(
        name = "blockpull",
        description = {
            "Populate a disk from its backing images (block pull), in the background; with --wait, wait for"
                    + " it, aborting it on Ctrl-C or --timeout; with --step, copy one increment and print the progress."
        },
        exitCodeOnInvalidInput = 1)
public final class BlockpullCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    DomainDiskArguments arguments;

    @Parameters(index = "2", arity = "0..1", paramLabel = "BANDWIDTH", description = "Bandwidth limit, as --bandwidth.")
    Optional<String> bandwidthArgument = Optional.empty();

    @Option(
            names = "--bandwidth",
            paramLabel = "N",
            description =
                    "Bandwidth limit in MiB/s (bytes/s with --bytes); a suffix (K, M, G, KB, MB…) gives a byte rate;"
                            + " 0 means unlimited.")
    Optional<String> bandwidthOption = Optional.empty();

    @Option(names = "--bytes", description = "The bandwidth is in bytes/s rather than MiB/s.")
    boolean bytes;

    @Option(
            names = "--base",
            paramLabel = "BASE",
            description = "Pull only the images above BASE (a path in the chain); the disk then backs onto BASE.")
    Optional<String> base = Optional.empty();

    @Parameters(index = "3", arity = "0..1", paramLabel = "BASE", description = "As --base.")
    Optional<String> baseArgument = Optional.empty();

    @Option(names = "--keep-relative", description = "With --base, keep the backing name relative as the chain had it.")
    boolean keepRelative;

    @Option(
            names = "--pace",
            paramLabel = "limit|guest",
            description = "limit (default): at the bandwidth; guest: slow down while the guest's I/O latency grows,"
                    + " never above the bandwidth.")
    PullPace pace = PullPace.LIMIT;

    @Option(
            names = "--pace-latency",
            paramLabel = "FACTOR",
            description = "With --pace guest: back off while the guest's p99 latency is over FACTOR times its"
                    + " p99 without the pull (default 1.3; above 1, at most 10).")
    Optional<Double> paceLatency = Optional.empty();

    @Option(
            names = "--order",
            paramLabel = "offset|profile",
            description = "offset (default): start to end; profile: the template's hot clusters (its access"
                    + " profile) first, then offset order.")
    PullOrder order = PullOrder.OFFSET;

    @Option(
            names = "--on-outage",
            paramLabel = "pause|fail",
            description = "While the disk's remote template stays unreachable past the daemon's --remote-timeout:"
                    + " pause (default; the pull resumes by itself when the remote answers) or fail.")
    PullOutage onOutage = PullOutage.PAUSE;

    @Option(names = "--wait", description = "Wait for the pull to finish.")
    boolean waitForJob;

    @Option(names = "--verbose", description = "With --wait, show the progress on stderr.")
    boolean verbose;

    @Option(names = "--timeout", paramLabel = "S", description = "With --wait, abort the pull after S seconds.")
    Optional<Integer> timeoutSeconds = Optional.empty();

    @Option(names = "--async", description = "With --wait, do not wait for an abort (Ctrl-C, --timeout) to finish.")
    boolean async;

    @Option(
            names = "--step",
            description = "Copy one increment of the pull (starting a stepped job) and print the progress.")
    boolean step;

    @Override
    public Integer call() throws CliException, InterruptedException {
        long bandwidth = bandwidth();
        base = PositionalOrOption.of("base", baseArgument, base);
        checkOptions();
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        try (Connection connection = Connections.open(spec)) {
            Domain found = connection.lookup(arguments.domain);
            if (step) {
                BlockJobProgress progress = found.blockPullStep(arguments.disk);
                out.println(JobProgress.line(BlockJobType.PULL, progress.curBytes(), progress.endBytes()));
                if (progress.completed()) {
                    out.println("Pull complete");
                }
                return 0;
            }
            if (!waitForJob) {
                start(found, bandwidth);
                out.println("Block Pull started");
                out.println();
                return 0;
            }
            try (BlockJobWait wait = BlockJobWait.register(connection, found, arguments.disk);
                    Interrupts interrupts = Interrupts.catchInterrupt()) {
                start(found, bandwidth);
                boolean terminal = Terminal.stderrIsTerminal();
                BlockJobWait.Outcome outcome = wait.await(
                        verbose ? Optional.of(ProgressDisplay.on(err, terminal)) : Optional.empty(),
                        Duration.ofMillis(terminal ? 200 : 500),
                        timeoutSeconds.map(Duration::ofSeconds),
                        async,
                        interrupts::caught);
                return report(outcome, out, err);
            }
        }
    }

    private long bandwidth() throws CliException {
        Optional<String> text = PositionalOrOption.of("bandwidth", bandwidthArgument, bandwidthOption);
        return text.isEmpty() ? 0 : BandwidthArgument.parse(text.get(), bytes);
    }

    private void checkOptions() throws CliException {
        requires("verbose", verbose, "wait", waitForJob);
        requires("async", async, "wait", waitForJob);
        requires("timeout", timeoutSeconds.isPresent(), "wait", waitForJob);
        requires("keep-relative", keepRelative, "base", base.isPresent());
        requires("pace-latency", paceLatency.isPresent(), "pace guest", pace == PullPace.GUEST);
        if (timeoutSeconds.isPresent() && timeoutSeconds.get() <= 0) {
            throw new CliException("invalid timeout " + timeoutSeconds.get() + ": must be at least 1 second");
        }
        if (step) {
            exclusive("step", "wait", waitForJob);
            exclusive("step", "base", base.isPresent());
            exclusive("step", "bandwidth", bandwidthOption.isPresent() || bandwidthArgument.isPresent());
            exclusive("step", "bytes", bytes);
            exclusive("step", "pace", pace != PullPace.LIMIT);
            exclusive("step", "order", order != PullOrder.OFFSET);
            exclusive("step", "on-outage", onOutage != PullOutage.PAUSE);
        }
    }

    /** virsh's VSH_REQUIRE_OPTION message. */
    private static void requires(String option, boolean given, String needed, boolean neededGiven) throws CliException {
        if (given && !neededGiven) {
            throw new CliException("Option --" + needed + " is required by option --" + option);
        }
    }

    /** virsh's VSH_EXCLUSIVE_OPTIONS message. */
    static void exclusive(String option, String other, boolean otherGiven) throws CliException {
        if (otherGiven) {
            throw new CliException("Options --" + option + " and --" + other + " are mutually exclusive");
        }
    }

    private void start(Domain found, long bandwidth) {
        // a latency factor has no virsh flag: it goes with a rebase, which without a base is the pull
        if (base.isPresent() || paceLatency.isPresent()) {
            EnumSet<RebaseFlag> flags = EnumSet.noneOf(RebaseFlag.class);
            if (keepRelative) {
                flags.add(RebaseFlag.KEEP_RELATIVE);
            }
            if (bytes) {
                flags.add(RebaseFlag.BANDWIDTH_BYTES);
            }
            if (pace == PullPace.GUEST) {
                flags.add(RebaseFlag.PACE_GUEST);
            }
            if (order == PullOrder.PROFILE) {
                flags.add(RebaseFlag.ORDER_PROFILE);
            }
            if (onOutage == PullOutage.FAIL) {
                flags.add(RebaseFlag.FAIL_ON_OUTAGE);
            }
            if (paceLatency.isPresent()) {
                found.blockRebase(arguments.disk, base, bandwidth, flags, paceLatency.get());
            } else {
                found.blockRebase(arguments.disk, base, bandwidth, flags);
            }
        } else {
            EnumSet<PullFlag> flags = EnumSet.noneOf(PullFlag.class);
            if (bytes) {
                flags.add(PullFlag.BANDWIDTH_BYTES);
            }
            if (pace == PullPace.GUEST) {
                flags.add(PullFlag.PACE_GUEST);
            }
            if (order == PullOrder.PROFILE) {
                flags.add(PullFlag.ORDER_PROFILE);
            }
            if (onOutage == PullOutage.FAIL) {
                flags.add(PullFlag.FAIL_ON_OUTAGE);
            }
            found.blockPull(arguments.disk, bandwidth, flags);
        }
    }

    /** Prints how the job ended as virsh does and returns the exit status. */
    static int report(BlockJobWait.Outcome outcome, PrintWriter out, PrintWriter err) {
        switch (outcome.status()) {
            case COMPLETED, READY -> {
                out.println("Pull complete");
                return 0;
            }
            case CANCELED -> {
                out.println("Pull aborted");
                return 1;
            }
            case FAILED -> {
                err.println("Pull failed: " + outcome.error().orElse("unknown error"));
                return 1;
            }
        }
        throw new IllegalStateException("unknown job status " + outcome.status());
    }
}
