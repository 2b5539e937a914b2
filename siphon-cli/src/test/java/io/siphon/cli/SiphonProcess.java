package io.siphon.cli;

import io.siphon.cli.domain.Connections;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs the built siphon command line as a separate process: java with the launcher's class path. */
public final class SiphonProcess {
    private static final Path JAR = Path.of("target", "siphon-cli.jar").toAbsolutePath();
    private static final Path LIB = Path.of("target", "lib").toAbsolutePath();

    private SiphonProcess() {}

    /** The command that runs siphon with {@code args}. */
    public static List<String> command(String... args) {
        if (!Files.isRegularFile(JAR) || !Files.isDirectory(LIB)) {
            throw new IllegalStateException(JAR + " or " + LIB + " is missing: these tests run after mvn package");
        }
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED",
                "-cp",
                JAR + ":" + LIB + "/*",
                "io.siphon.cli.Main"));
        command.addAll(List.of(args));
        return command;
    }

    /** The command as one shell line, for tmux. */
    public static String shellLine(String... args) {
        List<String> quoted = new ArrayList<>();
        for (String word : command(args)) {
            quoted.add("'" + word.replace("'", "'\\''") + "'");
        }
        return String.join(" ", quoted);
    }

    /** Starts siphon with {@code environment} added, stdin from /dev/null, output to files in {@code dir}. */
    public static Process start(Path dir, Map<String, String> environment, String name, String... args)
            throws IOException {
        ProcessBuilder builder = new ProcessBuilder(command(args))
                .directory(dir.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                .redirectOutput(dir.resolve(name + ".out").toFile())
                .redirectError(dir.resolve(name + ".err").toFile());
        // the test runner's own default URI must not leak into what a test states
        builder.environment().remove(Connections.DEFAULT_URI_VARIABLE);
        builder.environment().putAll(environment);
        return builder.start();
    }

    /** Runs siphon to its end (at most two minutes) and returns what it printed. */
    public static Cli.Result run(Path dir, Map<String, String> environment, String... args)
            throws IOException, InterruptedException {
        String name = "run-" + System.nanoTime();
        Process process = start(dir, environment, name, args);
        if (!process.waitFor(2, TimeUnit.MINUTES)) {
            process.destroyForcibly();
            throw new AssertionError("siphon " + List.of(args) + " did not end within two minutes");
        }
        return new Cli.Result(
                process.exitValue(),
                Files.readString(dir.resolve(name + ".out"), StandardCharsets.UTF_8),
                Files.readString(dir.resolve(name + ".err"), StandardCharsets.UTF_8));
    }
}
