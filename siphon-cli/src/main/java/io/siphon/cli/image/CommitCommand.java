package io.siphon.cli.image;

import io.siphon.cli.CliException;
import io.siphon.cli.Sizes;
import io.siphon.cli.view.QemuProgress;
import io.siphon.image.ImageCommitter;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code siphon image commit}: writes an image's data into its backing file, as qemu-img commit. */
@Command(
        name = "commit",
        description = {
            "Write what FILE holds into its backing file (or into BASE, further down its chain), then"
                    + " empty FILE so that it reads the backing again.",
            "With -b, or -d, FILE is left as it is (the images between FILE and BASE may no longer"
                    + " read right once BASE has changed)."
        },
        exitCodeOnInvalidInput = 1)
final class CommitCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ImageFormatOption format;

    @Option(
            names = "-b",
            paramLabel = "BASE",
            description = "The image of FILE's backing chain to commit into (default: FILE's backing file).")
    Optional<String> base = Optional.empty();

    @Option(names = "-d", description = "Do not empty FILE after the commit.")
    boolean drop;

    @Option(names = "-p", description = "Show progress on standard output.")
    boolean progress;

    @Option(names = "-q", description = "Quiet: do not print 'Image committed.'.")
    boolean quiet;

    @Option(names = "-r", paramLabel = "RATE", description = "At most RATE bytes a second (k, M, G, T, P, E suffixes).")
    Optional<String> rate = Optional.empty();

    @Option(
            names = "-t",
            paramLabel = "CACHE",
            description = "Cache mode of FILE (accepted for qemu-img's command lines; Siphon's I/O is its own).")
    Optional<String> cache = Optional.empty();

    @Parameters(paramLabel = "FILE", description = "The image whose data is committed.")
    String file;

    @Override
    public Integer call() throws IOException, CliException {
        long rateBytes = 0;
        if (rate.isPresent()) {
            try {
                rateBytes = Sizes.parse(rate.get());
            } catch (IllegalArgumentException e) {
                // qemu-img's two lines
                throw new CliException("Invalid rate limit specified. You may use k, M, G, T, P or E suffixes for"
                        + System.lineSeparator()
                        + "siphon: kilobytes, megabytes, gigabytes, terabytes, petabytes and exabytes.");
            }
        }
        QemuProgress shown = new QemuProgress(spec.commandLine().getOut(), progress && !quiet);
        ImageCommitter.commit(
                Path.of(file), new ImageCommitter.Options(format.format, base, drop, rateBytes), shown::update);
        shown.end();
        if (!quiet) {
            spec.commandLine().getOut().println("Image committed.");
        }
        return 0;
    }
}
