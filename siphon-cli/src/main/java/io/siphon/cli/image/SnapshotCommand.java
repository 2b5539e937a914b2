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
            "List (-l), create (-c NAME), apply (-a NAME) or delete (-d NAME) FILE's internal snapshots" + " (qcow2).",
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
                description = "Revert the disk to the snapshot named NAME.")
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
        String format;
        List<ImageSnapshot> existing;
        try (Image image = ImageChain.openOne(path, Optional.empty(), OpenOptions.FORCE_SHARE)) {
            format = image.formatName();
            existing = image.info().snapshots();
        }
        if (action.apply.isPresent()
                && existing.stream().noneMatch(s -> s.name().equals(action.apply.get()))
                && format.equals("qcow2")) {
            // qemu-img's words (qcow2_snapshot_goto's ENOENT)
            throw new CliException("Could not apply snapshot '" + action.apply.get()
                    + "': Failed to load snapshot: No such file or directory");
        }
        String verb = action.create.isPresent() ? "create" : action.apply.isPresent() ? "apply" : "delete";
        String name =
                action.create.or(() -> action.apply).or(() -> action.delete).orElseThrow();
        try {
            switch (verb) {
                case "create" -> Formats.byName(format).createSnapshot(path, name);
                case "apply" -> Formats.byName(format).applySnapshot(path, name);
                default -> Formats.byName(format).deleteSnapshot(path, name);
            }
        } catch (ImageFormatException e) {
            throw new CliException("Could not " + verb + " snapshot '" + name + "': " + e.getMessage());
        }
        return 0;
    }
}
