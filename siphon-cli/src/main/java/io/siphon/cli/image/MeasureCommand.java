package io.siphon.cli.image;

import io.siphon.cli.CliException;
import io.siphon.cli.Sizes;
import io.siphon.cli.view.MapEntry;
import io.siphon.cli.view.QemuPrettyPrinter;
import io.siphon.format.Formats;
import io.siphon.format.Image;
import io.siphon.format.ImageChain;
import io.siphon.format.MeasureSource;
import io.siphon.format.Measurement;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
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

/** {@code siphon image measure}: the file size a new image needs, as qemu-img measure. */
@Command(
        name = "measure",
        description = {
            "Show the file size a new image of format -O needs to hold FILE's data (its chain"
                    + " flattened), or an empty disk of --size, and its size fully allocated."
        },
        exitCodeOnInvalidInput = 1)
final class MeasureCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ImageFormatOption format;

    @Mixin
    OutputOption output;

    @Mixin
    ForceShareOption share;

    @Option(names = "-O", paramLabel = "FMT", description = "Format of the new image (default: raw).")
    String outputFormat = "raw";

    @Option(names = "-o", paramLabel = "OPTIONS", description = "Its create options, name=value[,...].")
    List<String> optionLists = new ArrayList<>();

    @Option(names = "--size", paramLabel = "SIZE", description = "Measure an empty disk of SIZE instead of FILE.")
    Optional<String> size = Optional.empty();

    @Parameters(arity = "0..1", paramLabel = "FILE", description = "The image whose data is measured.")
    Optional<String> file = Optional.empty();

    @Override
    public Integer call() throws IOException, CliException {
        if (size.isPresent() == file.isPresent()) {
            throw new CliException("give either --size SIZE or an image FILE to measure");
        }
        MeasureSource source = size.isPresent() ? MeasureSource.ofSize(parse(size.get())) : measured(file.get());
        Measurement measured = Formats.byName(outputFormat).measure(source, OptionList.parse(optionLists));
        PrintWriter out = spec.commandLine().getOut();
        if (output.json()) {
            Map<String, Object> json = new LinkedHashMap<>(); // qemu-img's order
            measured.bitmapsBytes().ifPresent(bytes -> json.put("bitmaps", bytes));
            json.put("required", measured.requiredBytes());
            json.put("fully-allocated", measured.fullyAllocatedBytes());
            out.println(QemuPrettyPrinter.pretty(json));
        } else {
            out.println("required size: " + measured.requiredBytes());
            out.println("fully allocated size: " + measured.fullyAllocatedBytes());
            measured.bitmapsBytes().ifPresent(bytes -> out.println("bitmaps size: " + bytes));
        }
        return 0;
    }

    /** The chain's data ranges, and its persistent bitmaps when the top can keep them (qcow2). */
    private MeasureSource measured(String name) throws IOException {
        try (ImageChain chain = ImageChain.open(Path.of(name), format.format, share.readOnly())) {
            List<long[]> data = new ArrayList<>();
            for (MapEntry entry : new ChainMap(chain.images(), ChainNames.of(chain, name)).entries()) {
                if (entry.data() && !entry.zero()) {
                    data.add(new long[] {entry.startBytes(), entry.lengthBytes()});
                }
            }
            Image top = chain.top();
            Optional<List<MeasureSource.Bitmap>> bitmaps = Optional.empty();
            if (top.formatName().equals("qcow2")) {
                List<MeasureSource.Bitmap> found = new ArrayList<>();
                if (top.info().formatSpecific().get("bitmaps") instanceof List<?> listed) {
                    for (Object bitmap : listed) {
                        Map<?, ?> fields = (Map<?, ?>) bitmap;
                        found.add(new MeasureSource.Bitmap(
                                (String) fields.get("name"), ((Number) fields.get("granularity")).longValue()));
                    }
                }
                bitmaps = Optional.of(found);
            }
            return new MeasureSource(top.sizeBytes(), data, bitmaps);
        }
    }

    private static long parse(String text) throws CliException {
        try {
            return Sizes.parse(text);
        } catch (IllegalArgumentException e) {
            throw new CliException("--size: " + e.getMessage());
        }
    }
}
