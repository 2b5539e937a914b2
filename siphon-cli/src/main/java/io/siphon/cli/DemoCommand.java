package io.siphon.cli;

import io.siphon.format.Formats;
import io.siphon.format.Image;
import io.siphon.format.ImageChain;
import io.siphon.format.ImageFormatException;
import io.siphon.format.OpenOptions;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code siphon demo}: in a temporary directory, a template with content and a thin qcow2 clone of
 * it, shown with the image commands. Until the daemon exists this is the image demo.
 */
@Command(
        name = "demo",
        description = {
            "Show thin cloning in a temporary directory: create a qcow2 template with content,"
                    + " a thin qcow2 clone of it, write to the clone, and show info"
                    + " --backing-chain, map, compare and check."
        },
        exitCodeOnInvalidInput = 1)
final class DemoCommand implements Callable<Integer> {
    private static final long MIB = 1 << 20;
    private static final long TEMPLATE_BYTES = 64 * MIB;
    /** Fixed so that every run shows the same map. */
    private static final long CONTENT_SEED = 20261125;

    @Spec
    CommandSpec spec;

    @Option(names = "--dir", paramLabel = "DIR", description = "Work in DIR (created; must not exist).")
    Optional<Path> dir = Optional.empty();

    @Option(names = "--keep", description = "Keep the images afterwards (always kept with --dir).")
    boolean keep;

    private PrintWriter out;

    @Override
    public Integer call() throws IOException, CliException {
        out = spec.commandLine().getOut();
        try {
            Formats.byName("qcow2");
        } catch (ImageFormatException e) {
            throw new CliException("the demo needs the qcow2 format, which this build does not have yet (formats here: "
                    + String.join(
                            ", ", Formats.all().stream().map(f -> f.name()).toList()) + ")");
        }
        Path work = dir.isPresent() ? Files.createDirectory(dir.get()) : Files.createTempDirectory("siphon-demo-");
        try {
            run(work);
        } finally {
            if (keep || dir.isPresent()) {
                say("The images are kept in " + work);
            } else {
                deleteTree(work);
            }
        }
        return 0;
    }

    private void run(Path work) throws IOException, CliException {
        Path template = work.resolve("template.qcow2");
        Path clone = work.resolve("clone.qcow2");
        say("Working in " + work);
        say("");
        say("1. A template image: a 64 MiB qcow2 disk.");
        siphon(0, "image", "create", "-f", "qcow2", template.toString(), "64M");
        say("");
        say("   Writing content into it: a text label at 0, 4 MiB of data at 1 MiB, 2 MiB at 40 MiB.");
        try (ImageChain chain = ImageChain.open(template, Optional.of("qcow2"), OpenOptions.READ_WRITE)) {
            Image image = chain.top();
            image.write(0, ByteBuffer.wrap("Siphon demo template\n".getBytes(StandardCharsets.US_ASCII)));
            Random random = new Random(CONTENT_SEED);
            image.write(1 * MIB, randomBytes(random, 4 * MIB));
            image.write(40 * MIB, randomBytes(random, 2 * MIB));
            image.flush();
        }
        say("");
        say("2. A thin clone: a qcow2 image that holds nothing yet and reads through to the template.");
        say("   Its backing name is relative, so it is found next to the clone, as QEMU does.");
        siphon(0, "image", "create", "-f", "qcow2", "-b", "template.qcow2", "-F", "qcow2", clone.toString());
        say("");
        say("   Writing 64 KiB into the clone at 2 MiB: only the clone changes.");
        try (ImageChain chain = ImageChain.open(clone, Optional.of("qcow2"), OpenOptions.READ_WRITE)) {
            ByteBuffer written = ByteBuffer.allocate((int) (64 * 1024));
            while (written.hasRemaining()) {
                written.put((byte) 0x5a);
            }
            chain.top().write(2 * MIB, written.flip());
            chain.top().flush();
        }
        say("");
        say("3. The chain: the clone, thin, on the template.");
        siphon(0, "image", "info", "--backing-chain", clone.toString());
        say("");
        say("4. Where the clone's data lives: depth 0 is the clone, 1 the template.");
        siphon(0, "image", "map", clone.toString());
        siphon(0, "image", "map", "--output=json", clone.toString());
        say("");
        say("5. The clone differs from the template only where it was written (exit status 1).");
        siphon(1, "image", "compare", template.toString(), clone.toString());
        say("");
        say("6. Both images are consistent.");
        siphon(0, "image", "check", clone.toString());
        siphon(0, "image", "check", template.toString());
        say("");
    }

    /** Runs one siphon command as a user would, showing it first; a different exit status fails the demo. */
    private void siphon(int expectedStatus, String... args) throws CliException {
        say("$ siphon " + String.join(" ", quoted(args)));
        PrintWriter err = spec.commandLine().getErr();
        int status = Main.commandLine(out, err, false).execute(args);
        out.flush();
        if (status != expectedStatus) {
            throw new CliException("demo step 'siphon " + String.join(" ", args) + "' ended with status " + status
                    + ", expected " + expectedStatus);
        }
    }

    private static List<String> quoted(String[] args) {
        List<String> quoted = new ArrayList<>();
        for (String arg : args) {
            quoted.add(arg.isEmpty() || arg.contains(" ") ? "'" + arg + "'" : arg);
        }
        return quoted;
    }

    private void say(String line) {
        out.println(line);
        out.flush();
    }

    private static ByteBuffer randomBytes(Random random, long length) {
        byte[] bytes = new byte[(int) length];
        random.nextBytes(bytes);
        return ByteBuffer.wrap(bytes);
    }

    private static void deleteTree(Path root) throws IOException {
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(path);
            }
        }
    }
}
