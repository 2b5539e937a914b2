package io.siphon.nbd.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs the interop peers (qemu-img, nbdinfo, fio…) as processes, with a timeout. */
public final class Tools {
    private Tools() {}

    /** What a finished process printed. */
    public record Result(int exitCode, String stdout, String stderr) {}

    /** Skips the test unless {@code tool} is on PATH. */
    public static void require(String... tools) {
        for (String tool : tools) {
            assumeTrue(onPath(tool), tool + " is not installed (scripts/test installs it)");
        }
    }

    public static boolean onPath(String tool) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            if (Files.isExecutable(Path.of(dir, tool))) {
                return true;
            }
        }
        return false;
    }

    /** Runs {@code command} to completion (at most two minutes). */
    public static Result run(String... command) throws IOException, InterruptedException {
        return run(List.of(command));
    }

    public static Result run(List<String> command) throws IOException, InterruptedException {
        Path out = Files.createTempFile("tool", ".out");
        Path err = Files.createTempFile("tool", ".err");
        try {
            Process process = new ProcessBuilder(command)
                    .redirectOutput(out.toFile())
                    .redirectError(err.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .start();
            if (!process.waitFor(120, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IOException(command + " did not finish in 120 s");
            }
            return new Result(process.exitValue(), Files.readString(out), Files.readString(err));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    /** Runs {@code command} and asserts it succeeded; returns its standard output. */
    public static String ok(String... command) throws IOException, InterruptedException {
        Result result = run(command);
        assertEquals(
                0,
                result.exitCode(),
                () -> String.join(" ", command) + " failed:\n" + result.stdout() + result.stderr());
        return result.stdout();
    }

    /** Starts a long-running peer (qemu-nbd, nbdkit); the caller destroys it. */
    public static Process start(List<String> command, Path log) throws IOException {
        List<String> copy = new ArrayList<>(command);
        return new ProcessBuilder(copy)
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
    }

    /** Waits until {@code socket} exists (a peer finished starting), at most ten seconds. */
    public static void awaitSocket(Path socket, Process process) throws InterruptedException, IOException {
        for (int i = 0; i < 200; i++) {
            if (Files.exists(socket)) {
                return;
            }
            if (!process.isAlive()) {
                throw new IOException("peer exited with " + process.exitValue() + " before creating " + socket);
            }
            Thread.sleep(50);
        }
        throw new IOException(socket + " did not appear in 10 s");
    }
}
