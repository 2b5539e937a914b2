package io.siphon.cli.image;

import io.siphon.cli.CliException;
import io.siphon.cli.Sizes;
import io.siphon.cli.view.QemuProgress;
import io.siphon.format.BackingReference;
import io.siphon.image.ConvertOptions;
import io.siphon.image.ImageConverter;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code siphon image convert}: copies what an image (and its chain) reads into a new image, as qemu-img. */
@Command(
        name = "convert",
        description = {
            "Copy what FILE (with its backing chain) reads into a new image OUTPUT of format -O.",
            "Ranges that read as zeroes are not written (sparse output). With -B, OUTPUT backs onto"
                    + " BACKING and only what FILE itself holds is copied."
        },
        exitCodeOnInvalidInput = 1)
final class ConvertCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ImageFormatOption format;

    @Option(names = "-O", paramLabel = "FMT", description = "Output format: qcow2, qed or raw (default: raw).")
    String outputFormat = "raw";

    @Option(names = "-o", paramLabel = "OPTIONS", description = "Output format options, name=value[,...].")
    List<String> optionLists = new ArrayList<>();

    @Option(
            names = "-B",
            paramLabel = "BACKING",
            description = "Backing file of OUTPUT; only FILE's own data is copied.")
    Optional<String> backing = Optional.empty();

    @Option(names = "-F", paramLabel = "FMT", description = "Format of BACKING (probed when not given).")
    Optional<String> backingFormat = Optional.empty();

    @Option(
            names = {"-c", "--compress"},
            description = "Compress each cluster of the output (qcow2; zlib, or zstd with -o compression_type=zstd).")
    boolean compress;

    @Option(names = "-p", description = "Show progress on standard output.")
    boolean progress;

    @Option(names = "-q", description = "Quiet (the default; with -p, no progress).")
    boolean quiet;

    @Option(names = "-n", description = "Do not create OUTPUT: write into the existing image.")
    boolean existing;

    @Option(names = "-W", description = "Allow out-of-order writes, so that -m requests run in parallel.")
    boolean outOfOrder;

    @Option(
            names = "-m",
            paramLabel = "N",
            description = "Requests in flight at once (1 to 16; with -W; default 8 with -W, else 1).")
    Optional<Integer> parallel = Optional.empty();

    @Option(
            names = "-S",
            paramLabel = "SIZE",
            description = "Zero runs of at least SIZE bytes (a multiple of 512; default 4k) are not written; 0"
                    + " writes everything.")
    Optional<String> sparseSize = Optional.empty();

    @Mixin
    ForceShareOption share;

    @Parameters(index = "0", paramLabel = "FILE", description = "The source image.")
    String file;

    @Parameters(index = "1", paramLabel = "OUTPUT", description = "The image to write.")
    String output;

    @Override
    public Integer call() throws IOException, CliException {
        if (backingFormat.isPresent() && backing.isEmpty()) {
            throw new CliException("-F names the format of a backing file, but no backing file (-B) was given");
        }
        int requests = parallel.orElse(outOfOrder ? 8 : 1);
        long sparse;
        try {
            sparse = sparseSize.map(Sizes::parse).orElse(ConvertOptions.DEFAULT_SPARSE_BYTES);
        } catch (IllegalArgumentException e) {
            throw new CliException("-S: " + e.getMessage());
        }
        ConvertOptions options;
        try {
            options = new ConvertOptions(
                    format.format,
                    outputFormat,
                    OptionList.parse(optionLists),
                    backing.map(name -> new BackingReference(name, backingFormat)),
                    existing,
                    requests,
                    outOfOrder,
                    sparse,
                    share.forceShare,
                    compress);
        } catch (IllegalArgumentException e) {
            throw new CliException(e.getMessage());
        }
        QemuProgress shown = new QemuProgress(spec.commandLine().getOut(), progress && !quiet);
        ImageConverter.convert(Path.of(file), Path.of(output), options, shown::update);
        shown.end();
        return 0;
    }
}
