package io.siphon.cli.domain;

import io.siphon.api.AbortFlag;
import io.siphon.api.Bandwidth;
import io.siphon.api.BlockJobInfo;
import io.siphon.api.BlockJobState;
import io.siphon.api.Connection;
import io.siphon.api.Domain;
import io.siphon.api.PullPhase;
import io.siphon.api.SpeedFlag;
import io.siphon.cli.CliException;
import io.siphon.cli.view.JobProgress;
import io.siphon.protocol.Result;
import java.io.PrintWriter;
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
 * {@code siphon blockjob DOMAIN DISK}: shows a disk's job (the default, or --info, --raw), aborts it,
 * changes its bandwidth, pauses or resumes it; as virsh blockjob.
 */
@Command(
        name = "blockjob",
        description = {"Query, abort, change the bandwidth of, pause or resume a disk's block job."},
        exitCodeOnInvalidInput = 1)
public final class BlockjobCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    DomainDiskArguments arguments;

    @Option(names = "--info", description = "Show the job's progress (the default).")
    boolean info;

    @Option(names = "--raw", description = "With --info, print type=, bandwidth=, cur= and end= lines.")
    boolean raw;

    @Option(names = "--bytes", description = "Show or set the bandwidth in bytes/s rather than MiB/s.")
    boolean bytes;

    @Option(names = "--abort", description = "Abort the job, waiting until it has ended.")
    boolean abort;

    @Option(names = "--async", description = "Implies --abort: request the abort without waiting for the job to end.")
    boolean async;

    @Option(
            names = "--bandwidth",
            paramLabel = "N",
            description =
                    "Set the bandwidth limit: MiB/s (bytes/s with --bytes), or a byte rate with a suffix; 0 for none.")
    Optional<String> bandwidth = Optional.empty();

    @Parameters(index = "2", arity = "0..1", paramLabel = "BANDWIDTH", description = "As --bandwidth.")
    Optional<String> bandwidthArgument = Optional.empty();

    @Option(names = "--pause", description = "Pause the job.")
    boolean pause;

    @Option(names = "--resume", description = "Resume a paused job.")
    boolean resume;

    @Mixin
    OutputOption output;

    @Override
    public Integer call() throws CliException {
        bandwidth = PositionalOrOption.of("bandwidth", bandwidthArgument, bandwidth);
        checkOptions();
        boolean json = output.json();
        if (json && (raw || abort || async || pause || resume || bandwidth.isPresent())) {
            throw new CliException("Option --output=json goes only with --info");
        }
        PrintWriter out = spec.commandLine().getOut();
        try (Connection connection = Connections.open(spec)) {
            Domain found = connection.lookup(arguments.domain);
            if (bandwidth.isPresent()) {
                found.blockJobSetSpeed(
                        arguments.disk,
                        BandwidthArgument.parse(bandwidth.get(), bytes),
                        bytes ? EnumSet.of(SpeedFlag.BANDWIDTH_BYTES) : EnumSet.noneOf(SpeedFlag.class));
            } else if (abort || async) {
                found.blockJobAbort(
                        arguments.disk, async ? EnumSet.of(AbortFlag.ASYNC) : EnumSet.noneOf(AbortFlag.class));
            } else if (pause) {
                found.blockJobPause(arguments.disk);
            } else if (resume) {
                found.blockJobResume(arguments.disk);
            } else if (json) {
                OutputOption.print(out, Result.JobStatus.of(found.blockJobInfo(arguments.disk)));
                return 0;
            } else {
                showInfo(out, found.blockJobInfo(arguments.disk));
                return 0;
            }
            out.println();
        }
        return 0;
    }

    private void checkOptions() throws CliException {
        BlockpullCommand.exclusive("raw", "abort", raw && (abort || async));
        BlockpullCommand.exclusive("info", "abort", info && (abort || async));
        BlockpullCommand.exclusive("raw", "bandwidth", raw && bandwidth.isPresent());
        BlockpullCommand.exclusive("info", "bandwidth", info && bandwidth.isPresent());
        BlockpullCommand.exclusive("bytes", "abort", bytes && (abort || async));
        BlockpullCommand.exclusive("pause", "resume", pause && resume);
        if ((pause || resume) && (info || raw || abort || async || bandwidth.isPresent())) {
            throw new CliException(
                    "Option --" + (pause ? "pause" : "resume") + " cannot be combined with another action");
        }
        if ((abort || async) && bandwidth.isPresent()) {
            BlockpullCommand.exclusive("abort", "bandwidth", true);
        }
    }

    private void showInfo(PrintWriter out, Optional<BlockJobInfo> job) {
        if (job.isEmpty()) {
            if (!raw) {
                out.println("No current block job for " + arguments.disk);
                out.println();
            }
            return;
        }
        BlockJobInfo j = job.get();
        if (raw) {
            out.println(" type=" + JobProgress.rawName(j.type()));
            out.println(" bandwidth="
                    + (bytes ? j.bandwidthBytesPerSecond() : Bandwidth.toMiBPerSecond(j.bandwidthBytesPerSecond())));
            out.println(" cur=" + j.curBytes());
            out.println(" end=" + j.endBytes());
            out.println();
            return;
        }
        StringBuilder line = new StringBuilder(JobProgress.line(j));
        if (j.bandwidthBytesPerSecond() > 0) {
            line.append("    Bandwidth limit: ")
                    .append(j.bandwidthBytesPerSecond())
                    .append(" bytes/s (")
                    .append(JobProgress.prettyCapacity(j.bandwidthBytesPerSecond()))
                    .append("/s)");
        }
        if (j.state() == BlockJobState.PAUSED || j.state() == BlockJobState.STEPPING) {
            // Siphon's job states that virsh has no words for
            line.append("    ").append(j.state() == BlockJobState.PAUSED ? "paused" : "stepping");
            j.pauseReason().ifPresent(reason -> line.append(": ").append(reason));
        }
        if (j.phase().equals(Optional.of(PullPhase.PROFILE))) {
            line.append("    Phase: profile (hot clusters first)");
        }
        out.println(line);
        out.println();
    }
}
