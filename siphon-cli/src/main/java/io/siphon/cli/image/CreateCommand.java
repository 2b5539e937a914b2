package io.siphon.cli.image;

import io.siphon.cli.CliException;
import io.siphon.cli.Failures;
import io.siphon.cli.Sizes;
import io.siphon.format.BackingReference;
import io.siphon.format.CreateOptions;
import io.siphon.format.Formats;
import io.siphon.format.Image;
import io.siphon.format.ImageChain;
import io.siphon.format.ImageFormat;
import io.siphon.format.OpenOptions;
import io.siphon.format.RemoteBackingPolicy;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code siphon image create}: a new image file, empty or as a thin clone of a backing image. */
@Command(
        name = "create",
        description = {
            "Create a new image FILE of SIZE bytes (suffixes K, M, G, T: powers of 1024).",
            "With -b, the image is a thin clone of BACKING: it reads from BACKING where it holds"
                    + " nothing itself, and takes BACKING's size when SIZE is not given.",
            "A relative BACKING name is relative to FILE's directory and stored as written."
        },
        exitCodeOnInvalidInput = 1)
final class CreateCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "-f", paramLabel = "FMT", description = "Image format: qcow2, qed or raw (default: raw).")
    String format = "raw";

    @Option(names = "-b", paramLabel = "BACKING", description = "Backing image to clone.")
    Optional<String> backing = Optional.empty();

    @Option(
            names = "-F",
            paramLabel = "FMT",
            description = "Format of BACKING (probed when not given; raw must be named).")
    Optional<String> backingFormat = Optional.empty();

    @Option(
            names = "-o",
            paramLabel = "OPTIONS",
            description = "Format options, name=value[,...]: cluster_size, compat (0.10 or 1.1),"
                    + " refcount_bits, lazy_refcounts... as qemu-img.")
    List<String> optionLists = new ArrayList<>();

    @Option(names = "-u", description = "Do not open BACKING (SIZE is then required and -F is recorded as given).")
    boolean unsafe;

    @Option(names = "-q", description = "Quiet: do not print the Formatting line.")
    boolean quiet;

    @Mixin
    RemoteBackingOptions remote;

    @Parameters(index = "0", paramLabel = "FILE", description = "The image file to create.")
    String file;

    @Parameters(index = "1", arity = "0..1", paramLabel = "SIZE", description = "Virtual size.")
    Optional<String> size = Optional.empty();

    @Override
    public Integer call() throws IOException, CliException {
        if (OptionsHelp.asked(optionLists)) {
            Formats.byName(format); // an unknown format is an error, not an empty list
            spec.commandLine().getOut().print(OptionsHelp.of(format));
            return 0;
        }
        Map<String, String> options = OptionList.parse(optionLists);
        Optional<String> sizeText = size.or(() -> Optional.ofNullable(options.remove("size")));
        Optional<String> backingName = backing.or(() -> Optional.ofNullable(options.remove("backing_file")));
        Optional<String> backingFmt = backingFormat.or(() -> Optional.ofNullable(options.remove("backing_fmt")));
        if (options.containsKey("cluster_size")) {
            options.put("cluster_size", Long.toString(parseSize(options.get("cluster_size"))));
        }
        // every option is checked before the Formatting line: a refused one prints only its error
        ImageFormat imageFormat = Formats.byName(format);
        imageFormat.validateCreateOptions(Path.of(file), options);
        if (backingName.isEmpty() && backingFmt.isPresent()) {
            throw new CliException("-F names the format of a backing file, but no backing file (-b) was given");
        }
        long sizeBytes;
        Optional<BackingReference> reference = Optional.empty();
        RemoteBackingPolicy policy =
                backingName.isPresent() ? remote.policyAllowing(backingName.get()) : RemoteBackingPolicy.LOCAL_ONLY;
        if (backingName.isPresent()) {
            if (unsafe) {
                sizeBytes = parseSize(sizeText.orElseThrow(
                        () -> new CliException(file + ": -u needs a size, since the backing file is not opened")));
            } else {
                BackingReference named = new BackingReference(backingName.get(), backingFmt);
                OpenOptions backingOptions = OpenOptions.FORCE_SHARE.withRemote(policy);
                try (Image backingImage = ImageChain.openBacking(Path.of(file), named, backingOptions)) {
                    backingFmt = Optional.of(backingImage.formatName());
                    sizeBytes = sizeText.isPresent() ? parseSize(sizeText.get()) : backingImage.sizeBytes();
                } catch (IOException e) {
                    throw new CliException(file + ": could not open backing image: " + Failures.describe(e));
                }
            }
            reference = Optional.of(new BackingReference(backingName.get(), backingFmt));
        } else {
            sizeBytes = parseSize(sizeText.orElseThrow(() -> new CliException(file + ": image creation needs a size")));
        }
        if (!quiet) {
            spec.commandLine()
                    .getOut()
                    .println(FormattingLine.of(file, format, sizeBytes, backingName, backingFmt, options));
        }
        imageFormat.create(Path.of(file), new CreateOptions(sizeBytes, reference, options, policy));
        return 0;
    }

    private static long parseSize(String text) throws CliException {
        try {
            return Sizes.parse(text);
        } catch (IllegalArgumentException e) {
            throw new CliException(e.getMessage());
        }
    }
}
