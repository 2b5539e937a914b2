package io.siphon.cli;

import io.siphon.testing.QemuTools;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** Runs siphon in-process, and the QEMU tools as processes, capturing what a user would see. */
public final class Cli {
    public record Result(int status, String out, String err) {}

    private Cli() {}

    public static Result siphon(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status;
        try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
                PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
            status = Main.run(args, o, e);
        }
        return new Result(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** Runs a program (qemu-img, qemu-io, ./siphon) in {@code dir} and waits for it (at most ten minutes). */
    public static Result run(Path dir, String... command) throws IOException, InterruptedException {
        QemuTools.Result result = QemuTools.run(dir, Duration.ofMinutes(10), List.of(command));
        return new Result(result.exitCode(), result.stdout(), result.stderr());
    }

    public static Result qemuImg(Path dir, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("qemu-img"));
        command.addAll(List.of(args));
        return run(dir, command.toArray(String[]::new));
    }

    /** Runs qemu-img in {@code dir}; fails the test unless it exits 0. */
    public static void qemuImgOk(Path dir, String... args) throws IOException, InterruptedException {
        Result result = qemuImg(dir, args);
        if (result.status() != 0) {
            throw new AssertionError("qemu-img " + String.join(" ", args) + " failed: " + result);
        }
    }

    /** qemu-io commands (each a -c) on {@code file} in {@code format}; fails the test if qemu-io fails. */
    public static void qemuIo(Path dir, String format, String file, String... commands)
            throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("qemu-io", "-f", format));
        for (String c : commands) {
            command.add("-c");
            command.add(c);
        }
        command.add(file);
        Result result = run(dir, command.toArray(String[]::new));
        if (result.status() != 0
                || result.out().contains("failed")
                || result.err().contains("failed")) {
            throw new AssertionError("qemu-io failed: " + result);
        }
    }
}
