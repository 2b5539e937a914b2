package io.siphon.cli;

import io.siphon.blockjob.Disk;
import io.siphon.blockjob.StreamJob;
import io.siphon.blockjob.StreamOptions;
import io.siphon.job.Job;
import io.siphon.job.JobEvent;
import io.siphon.job.Progress;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code siphon image pull}: a block pull of an image not in use, with Siphon's pull engine. */
@Command(
        name = "pull",
        description = {
            "Copy into FILE everything it reads from its backing chain (down to BASE, with --base),"
                    + " then remove its backing link (or point it at BASE).",
            "FILE reads the same afterwards. For an image a running domain uses, use the domain's"
                    + " block pull instead. An interrupted pull goes on where it stopped when run again."
        },
        exitCodeOnInvalidInput = 1)
final class PullCommand implements Callable<Integer> {
    private static final Duration PROGRESS_INTERVAL = Duration.ofMillis(500);

    @Spec
    CommandSpec spec;

    @Mixin
    ImageFormatOption format;

    @Option(
            names = "--base",
            paramLabel = "BASE",
            description = "Stop at BASE, an image of the chain: it stays FILE's backing file.")
    Optional<Path> base = Optional.empty();

    @Option(
            names = "--keep-relative",
            description = "Store BASE's name relative to FILE's directory (default: absolute).")
    boolean keepRelative;

    @Option(
            names = "--bandwidth",
            paramLabel = "SPEED",
            description = "Copy at most SPEED bytes per second (suffixes K, M, G: 10M is 10 MiB/s).")
    Optional<String> bandwidth = Optional.empty();

    @Option(names = "-p", description = "Show progress on stderr, as virsh: Block Pull: [ 45.12 %].")
    boolean progress;

    @Parameters(paramLabel = "FILE", description = "The image to pull into.")
    String file;

    @Override
    public Integer call() throws IOException, CliException, InterruptedException {
        StreamOptions options = StreamOptions.defaults();
        if (base.isPresent()) {
            options = options.withBase(base.get(), keepRelative);
        }
        if (bandwidth.isPresent()) {
            try {
                options = options.withSpeed(Sizes.parse(bandwidth.get()));
            } catch (IllegalArgumentException e) {
                throw new CliException("--bandwidth: " + e.getMessage());
            }
        }
        PrintWriter err = spec.commandLine().getErr();
        AtomicReference<JobEvent> outcome = new AtomicReference<>();
        try (Disk disk = Disk.open(file, Path.of(file), format.format, false)) {
            Job job = StreamJob.create(disk, options);
            job.addListener(event -> {
                if (event instanceof JobEvent.Completed
                        || event instanceof JobEvent.Failed
                        || event instanceof JobEvent.Cancelled) {
                    outcome.set(event);
                }
            });
            job.start();
            while (!job.awaitEnd(PROGRESS_INTERVAL)) {
                if (progress) {
                    err.println(percent(job.progress()));
                    err.flush();
                }
            }
        }
        return switch (outcome.get()) {
            case JobEvent.Completed done -> {
                if (progress) {
                    err.println("Block Pull: [100.00 %]");
                    spec.commandLine().getOut().println("Pull complete");
                }
                yield 0;
            }
            case JobEvent.Failed failed -> throw new CliException(file + ": pull failed: " + failed.message());
            case null, default -> throw new CliException(file + ": pull did not complete");
        };
    }

    private static String percent(Progress progress) {
        double done = progress.endBytes() == 0 ? 100.0 : progress.curBytes() * 100.0 / progress.endBytes();
        return String.format(Locale.ROOT, "Block Pull: [%6.2f %%]", done);
    }
}
