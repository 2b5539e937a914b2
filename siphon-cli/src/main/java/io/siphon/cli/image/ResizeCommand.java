package io.siphon.cli.image;

import io.siphon.cli.CliException;
import io.siphon.cli.Sizes;
import io.siphon.format.Formats;
import io.siphon.format.Image;
import io.siphon.format.ImageChain;
import io.siphon.format.OpenOptions;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code siphon image resize}: changes an image's virtual size, as qemu-img resize. */
@Command(
        name = "resize",
        description = {
            "Change FILE's virtual size to SIZE, or by +SIZE / -SIZE (write -- before a negative one).",
            "Growing adds a range that reads as zeroes (or from the backing file); shrinking, only with"
                    + " --shrink, deletes everything past the new end."
        },
        exitCodeOnInvalidInput = 1)
final class ResizeCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ImageFormatOption format;

    @Option(names = "--shrink", description = "Allow a smaller size (the data past it is lost).")
    boolean shrink;

    @Option(names = "-q", description = "Quiet: do not print 'Image resized.'.")
    boolean quiet;

    @Parameters(index = "0", paramLabel = "FILE", description = "The image to resize.")
    String file;

    @Parameters(index = "1", paramLabel = "SIZE", description = "New size, or +SIZE / -SIZE (K, M, G, T suffixes).")
    String size;

    @Override
    public Integer call() throws IOException, CliException {
        Path path = Path.of(file);
        long current;
        String formatName;
        try (Image image = ImageChain.openOne(path, format.format, OpenOptions.FORCE_SHARE)) {
            current = image.sizeBytes();
            formatName = image.formatName();
        }
        long newSize = newSize(current);
        if (newSize < current && !shrink) {
            throw new CliException(file + ": use the --shrink option to shrink it (" + current + " to " + newSize
                    + " bytes): the data past the new end is deleted");
        }
        Formats.byName(formatName).resize(path, newSize);
        if (!quiet) {
            spec.commandLine().getOut().println("Image resized.");
        }
        return 0;
    }

    private long newSize(long current) throws CliException {
        boolean relative = size.startsWith("+") || size.startsWith("-");
        long amount;
        try {
            amount = Sizes.parse(relative ? size.substring(1) : size);
        } catch (IllegalArgumentException e) {
            throw new CliException(e.getMessage());
        }
        if (!relative) {
            return amount;
        }
        if (size.startsWith("-")) {
            if (amount > current) {
                throw new CliException(
                        file + ": " + size + " would make the size negative (it is " + current + " bytes)");
            }
            return current - amount;
        }
        try {
            return Math.addExact(current, amount);
        } catch (ArithmeticException e) {
            throw new CliException(file + ": " + size + " makes the size overflow");
        }
    }
}
