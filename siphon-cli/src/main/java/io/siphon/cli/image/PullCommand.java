package io.siphon.cli.image;

import io.siphon.blockjob.Disk;
import io.siphon.blockjob.OutagePolicy;
import io.siphon.blockjob.StreamJob;
import io.siphon.blockjob.StreamOptions;
import io.siphon.cli.CliException;
import io.siphon.cli.Sizes;
import io.siphon.format.BackingNames;
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

/** {@code siphon image pull}: the block pull of an image not in use, as a stream job run to its end. */
@Command(
        name = "pull",
        description = {
            "Copy into FILE everything it reads from its backing chain, then remove its backing link"
                    + " (or, with --base, copy only from the images above BASE and link FILE to BASE).",
            "FILE must not be in use. An interrupted pull is safe: running it again continues from"
                    + " what FILE already holds.",
            "A relative BASE is relative to FILE's directory, as backing names are."
        },
        exitCodeOnInvalidInput = 1)
final class PullCommand implements Callable<Integer> {
    private static final Duration PROGRESS_INTERVAL = Duration.ofMillis(250);

    @Mixin
    ImageFormatOption format;

    @Option(names = "--base", paramLabel = "BASE", description = "Stop at BASE: it and what is below it stay.")
    Optional<String> base = Optional.empty();

    @Option(
            names = "--keep-relative",
            description = "Store BASE's name relative to FILE's directory (default: absolute).")
    boolean keepRelative;

    @Option(
            names = "--bandwidth",
            paramLabel = "RATE",
            description = "Limit in bytes per second, with K, M, G suffixes (e.g. 50M); 0 is unlimited.")
    String bandwidth = "0";

    @Option(names = "-p", description = "Show progress.")
    boolean progress;

    @Option(
            names = "--on-outage",
            paramLabel = "POLICY",
            description = "When a remote template stays unreachable past --remote-timeout: pause (the default;"
                    + " the pull resumes by itself when the remote answers) or fail.")
    String onOutage = "pause";

    @Mixin
    RemoteBackingOptions remote;

    @Parameters(paramLabel = "FILE", description = "The image to pull into.")
    String file;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException, InterruptedException, CliException {
        Path path = Path.of(file);
        long bytesPerSecond = Sizes.parse(bandwidth);
        StreamOptions options = StreamOptions.defaults()
                .withSpeed(bytesPerSecond)
                .withOnOutage(
                        switch (onOutage) {
                            case "pause" -> OutagePolicy.PAUSE;
                            case "fail" -> OutagePolicy.ON_ERROR;
                            default -> throw new CliException("--on-outage is pause or fail, got '" + onOutage + "'");
                        });
        if (base.isPresent()) {
            options = options.withBase(
                    BackingNames.isRemote(base.get()) ? Path.of(base.get()) : BackingNames.resolve(path, base.get()),
                    keepRelative);
        } else if (keepRelative) {
            throw new CliException("--keep-relative needs --base");
        }
        PrintWriter out = spec.commandLine().getOut();
        AtomicReference<JobEvent> outcome = new AtomicReference<>();
        PrintWriter err = spec.commandLine().getErr();
        try (Disk disk = Disk.open(path.toString(), path, format.format, false, remote.policy(file))) {
            Job job = StreamJob.create(disk, options);
            job.addListener(event -> {
                if (event instanceof JobEvent.ErrorReported error && error.stopped()) {
                    err.println("siphon: " + file + ": pull paused: " + error.message());
                    err.flush();
                }
                if (!(event instanceof JobEvent.StatusChanged) && !(event instanceof JobEvent.ErrorReported)) {
                    outcome.set(event);
                }
            });
            job.start();
            while (!job.awaitEnd(progress ? PROGRESS_INTERVAL : Duration.ofDays(1))) {
                printProgress(out, job.progress());
            }
            if (progress) {
                printProgress(out, job.progress());
                out.println();
            }
        }
        if (outcome.get() instanceof JobEvent.Failed failed) {
            throw new CliException(file + ": pull failed: " + failed.message());
        }
        return 0;
    }

    /** qemu-img's progress line, then what was copied, the rate and the time left. */
    private static void printProgress(PrintWriter out, Progress now) {
        double percent = now.endBytes() == 0 ? 100 : 100.0 * now.curBytes() / now.endBytes();
        String left = now.remaining()
                .map(d -> String.format(Locale.ROOT, ", %d:%02d left", d.toMinutes(), d.toSecondsPart()))
                .orElse("");
        out.printf(
                Locale.ROOT,
                "    (%.2f/100%%) %s copied, %s/s%s   \r",
                percent,
                Sizes.human(now.copiedBytes()),
                Sizes.human(now.bytesPerSecond()),
                left);
        out.flush();
    }
}
