package io.siphon.cli.image;

import io.siphon.cli.CliException;
import io.siphon.cli.view.SnapshotView;
import io.siphon.format.Formats;
import io.siphon.format.Image;
import io.siphon.format.ImageChain;
import io.siphon.format.ImageFormatException;
import io.siphon.format.ImageSnapshot;
import io.siphon.format.OpenOptions;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code siphon image snapshot}: lists, creates and deletes a qcow2 image's internal snapshots, as qemu-img. */
@Command(
        name = "snapshot",
        description = {
            "List (-l), create (-c NAME) or delete (-d NAME) FILE's internal snapshots (qcow2).",
            "A snapshot keeps the disk as it is now; Siphon then writes no guest data into the image"
                    + " (its clusters are shared) until the snapshots are deleted."
        },
        exitCodeOnInvalidInput = 1)
final class SnapshotCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    static final class Action {
        @Option(names = "-l", required = true, description = "List the snapshots.")
        boolean list;

        @Option(names = "-c", required = true, paramLabel = "NAME", description = "Create a snapshot named NAME.")
        Optional<String> create = Optional.empty();

        @Option(names = "-d", required = true, paramLabel = "NAME", description = "Delete the snapshot named NAME.")
        Optional<String> delete = Optional.empty();

        @Option(
                names = "-a",
                required = true,
                paramLabel = "NAME",
                description = "Revert to the snapshot named NAME (not supported yet).")
        Optional<String> apply = Optional.empty();
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Action action;

    @Mixin
    ForceShareOption share;

    @Option(names = "-q", description = "Quiet (nothing is printed but the list).")
    boolean quiet;

    @Parameters(paramLabel = "FILE", description = "The image.")
    String file;

    @Override
    public Integer call() throws IOException, CliException {
        Path path = Path.of(file);
        if (action.list) {
            List<ImageSnapshot> snapshots;
            try (Image image = ImageChain.openOne(path, Optional.empty(), share.readOnly())) {
                snapshots = image.info().snapshots();
            }
            PrintWriter out = spec.commandLine().getOut();
            if (!snapshots.isEmpty()) {
                out.println("Snapshot list:");
                out.println(SnapshotView.HEADING);
                snapshots.forEach(snapshot -> out.println(SnapshotView.line(snapshot)));
            }
            return 0;
        }
        if (share.forceShare) {
            throw new CliException("-U can only be used with -l: changing snapshots needs the image locked");
        }
        if (action.apply.isPresent()) {
            throw new CliException(file + ": reverting to a snapshot (-a) is not supported yet");
        }
        String format;
        try (Image image = ImageChain.openOne(path, Optional.empty(), OpenOptions.FORCE_SHARE)) {
            format = image.formatName();
        }
        try {
            if (action.create.isPresent()) {
                Formats.byName(format).createSnapshot(path, action.create.get());
            } else {
                Formats.byName(format).deleteSnapshot(path, action.delete.orElseThrow());
            }
        } catch (ImageFormatException e) {
            String verb = action.create.isPresent() ? "create" : "delete";
            throw new CliException("Could not " + verb + " snapshot '"
                    + action.create.or(() -> action.delete).orElseThrow() + "': " + e.getMessage());
        }
        return 0;
    }
}
