package io.siphon.cli.demo;

import io.siphon.cli.CliException;
import io.siphon.format.Formats;
import io.siphon.format.ImageFormatException;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code siphon demo}: Siphon's main job in a temporary directory, with nothing to install or start
 * first; the story itself is {@link PullDemo}, or with {@code --vm} {@link VmDemo} (a real guest).
 */
@Command(
        name = "demo",
        description = {
            "Show Siphon's main job in a temporary directory: a qcow2 template with content, a domain whose disk"
                    + " is a thin clone of it with copy-on-read, written and read over NBD, pulled with a progress"
                    + " bar while in use, the COMPLETED event, and the disk standing alone afterwards.",
            "With --vm, a real VM (Debian's cloud kernel and busybox, built by scripts/make-guest) boots from the"
                    + " thin clone and reads it while it is pulled, its console lines shown beside the progress."
        },
        exitCodeOnInvalidInput = 1)
public final class DemoCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--dir", paramLabel = "DIR", description = "Work in DIR (created; must not exist).")
    Optional<Path> dir = Optional.empty();

    @Option(names = "--keep", description = "Keep the images afterwards (always kept with --dir).")
    boolean keep;

    @Option(
            names = "--vm",
            description = "Boot a real guest from the clone while it is pulled (needs qemu-system-x86_64,"
                    + " linux-image-cloud-amd64 and busybox-static; installed when missing and run as root).")
    boolean vm;

    @Override
    public Integer call() throws IOException, CliException, InterruptedException {
        PrintWriter out = spec.commandLine().getOut();
        try {
            Formats.byName("qcow2");
        } catch (ImageFormatException e) {
            throw new CliException("the demo needs the qcow2 format, which this build does not have (formats here: "
                    + String.join(
                            ", ", Formats.all().stream().map(f -> f.name()).toList()) + ")");
        }
        Path work = dir.isPresent() ? Files.createDirectory(dir.get()) : Files.createTempDirectory("siphon-demo-");
        try {
            if (vm) {
                new VmDemo(out, spec.commandLine().getErr(), work).run();
            } else {
                new PullDemo(out, spec.commandLine().getErr(), work).run();
            }
        } finally {
            if (keep || dir.isPresent()) {
                out.println("The images are kept in " + work);
            } else {
                deleteTree(work);
            }
            out.flush();
        }
        return 0;
    }

    private static void deleteTree(Path root) throws IOException {
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(path);
            }
        }
    }
}
