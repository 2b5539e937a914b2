package io.siphon.cli.image;

import io.siphon.cli.CliException;
import io.siphon.cli.Sizes;
import io.siphon.cli.view.MapEntry;
import io.siphon.format.ImageChain;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code siphon image map}: where each range of a chain's data lives, as qemu-img map. */
@Command(
        name = "map",
        description = {
            "Show which image of FILE's backing chain holds each range, and where in that file.",
            "human lists the ranges holding data; json lists every range with start, length, depth"
                    + " (0 = FILE), present, zero, data and offset, as qemu-img map."
        },
        exitCodeOnInvalidInput = 1)
final class MapCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ImageFormatOption format;

    @Mixin
    OutputOption output;

    @Mixin
    ForceShareOption share;

    @Mixin
    RemoteBackingOptions remote;

    @Option(
            names = "--start-offset",
            paramLabel = "OFFSET",
            description = "Map from OFFSET (bytes; K, M, G, T suffixes) instead of 0.")
    String startOffset = "0";

    @Option(
            names = "--max-length",
            paramLabel = "LENGTH",
            description = "Map at most LENGTH bytes (K, M, G, T suffixes); default: to the end.")
    Optional<String> maxLength = Optional.empty();

    @Parameters(paramLabel = "FILE", description = "The top image of the chain.")
    String file;

    @Override
    public Integer call() throws IOException, CliException {
        long start = offset("start offset", startOffset);
        long length = maxLength.isPresent() ? offset("max length", maxLength.get()) : Long.MAX_VALUE;
        long end = length > Long.MAX_VALUE - start ? Long.MAX_VALUE : start + length;
        List<MapEntry> entries;
        try (ImageChain chain =
                ImageChain.open(file, format.format, share.readOnly().withRemote(remote.policy(file)))) {
            entries = new ChainMap(chain.images(), ChainNames.of(chain, file)).entries(start, end);
        }
        PrintWriter out = spec.commandLine().getOut();
        if (output.json()) {
            out.println("["
                    + String.join(",\n", entries.stream().map(MapEntry::json).toList()) + "]");
            return 0;
        }
        // like qemu-img, the header and the ranges before one that cannot be shown are printed
        out.printf("%-16s%-16s%-16s%s%n", "Offset", "Length", "Mapped to", "File");
        for (MapEntry entry : entries) {
            if (!entry.data() || entry.zero()) {
                continue;
            }
            if (entry.hostOffsetBytes().isEmpty()) {
                out.flush();
                throw new CliException(file + ": the range at offset " + entry.startBytes()
                        + " is compressed or encrypted and has no single place in a file; use --output=json");
            }
            out.print(column(entry.startBytes())
                    + column(entry.lengthBytes())
                    + column(entry.hostOffsetBytes().getAsLong())
                    + entry.file().orElseThrow()
                    + "\n");
        }
        return 0;
    }

    private static long offset(String what, String text) throws CliException {
        try {
            return Sizes.parse(text);
        } catch (IllegalArgumentException e) {
            throw new CliException(what + ": " + e.getMessage());
        }
    }

    /** C's {@code %#-16x}: hexadecimal with 0x (but plain 0), left-aligned in 16 columns. */
    private static String column(long value) {
        String hex = value == 0 ? "0" : "0x" + Long.toHexString(value);
        return String.format("%-16s", hex);
    }
}
