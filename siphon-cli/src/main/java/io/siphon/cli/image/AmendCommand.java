package io.siphon.cli.image;

import io.siphon.cli.CliException;
import io.siphon.cli.view.QemuProgress;
import io.siphon.format.Formats;
import io.siphon.format.Image;
import io.siphon.format.ImageChain;
import io.siphon.format.OpenOptions;
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

/** {@code siphon image amend}: changes a qcow2 image's options in place, as qemu-img amend. */
@Command(
        name = "amend",
        description = {
            "Change FILE's format options in place: for qcow2 compat (0.10 or 1.1), lazy_refcounts (on or"
                    + " off), refcount_bits (1, 2, 4, ... 64) and size; -o help lists them.",
            "A downgrade to compat=0.10 first turns zero clusters into what version 2 can store, as" + " qemu-img does."
        },
        exitCodeOnInvalidInput = 1)
final class AmendCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ImageFormatOption format;

    @Option(
            names = "-o",
            paramLabel = "OPTIONS",
            description = "The options to change, name=value[,...]; help lists them.")
    List<String> optionLists = new ArrayList<>();

    @Option(names = "-p", description = "Show progress on standard output.")
    boolean progress;

    @Option(names = "-q", description = "Quiet (the default; with -p, no progress).")
    boolean quiet;

    @Option(
            names = "--force",
            description = "Accepted for qemu-img's command lines (it forces changes Siphon does not make).")
    boolean force;

    @Parameters(arity = "0..1", paramLabel = "FILE", description = "The image to change.")
    Optional<String> file = Optional.empty();

    @Override
    public Integer call() throws IOException, CliException {
        if (optionLists.isEmpty()) {
            throw new CliException("Must specify options (-o)");
        }
        String formatName;
        if (format.format.isPresent() || file.isEmpty()) {
            formatName = format.format.orElseThrow(() -> new CliException("Expecting one image file name"));
            Formats.byName(formatName); // an unknown format is an error
        } else {
            try (Image image = ImageChain.openOne(Path.of(file.get()), Optional.empty(), OpenOptions.FORCE_SHARE)) {
                formatName = image.formatName();
            }
        }
        if (OptionsHelp.asked(optionLists)) {
            if (!formatName.equals("qcow2")) {
                throw new CliException("Format driver '" + formatName + "' does not support option amendment");
            }
            spec.commandLine().getOut().print(OptionsHelp.amendQcow2());
            return 0;
        }
        if (file.isEmpty()) {
            throw new CliException("Expecting one image file name");
        }
        Map<String, String> options = OptionList.parse(optionLists);
        QemuProgress shown = new QemuProgress(spec.commandLine().getOut(), progress && !quiet);
        shown.update(0, 1);
        Formats.byName(formatName).amend(Path.of(file.get()), options, shown::updateFromDriver);
        shown.end(); // 100% once more, as qemu-img ends amend's progress
        return 0;
    }
}
