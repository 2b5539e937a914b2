package io.siphon.format.qcow2;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs qemu-img and qemu-io (found on PATH) and returns what they print. */
final class QemuTools {
    private QemuTools() {}

    record Result(int exitCode, String stdout, String stderr) {}

    static Result run(String... command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).start();
        process.getOutputStream().close();
        byte[] out = process.getInputStream().readAllBytes();
        byte[] err = process.getErrorStream().readAllBytes();
        if (!process.waitFor(120, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IOException("timed out: " + String.join(" ", command));
        }
        return new Result(
                process.exitValue(), new String(out, StandardCharsets.UTF_8), new String(err, StandardCharsets.UTF_8));
    }

    /** Runs a command that must succeed; returns its standard output. */
    static String ok(String... command) throws IOException, InterruptedException {
        Result result = run(command);
        if (result.exitCode() != 0) {
            throw new AssertionError(String.join(" ", command) + " exited " + result.exitCode() + ": " + result.stderr()
                    + result.stdout());
        }
        return result.stdout();
    }

    /** {@code qemu-img create -q -f qcow2 [extra...] image size}. */
    static void createQcow2(Path image, String size, String... extra) throws IOException, InterruptedException {
        List<String> command = args("qemu-img", "create", "-q", "-f", "qcow2");
        command.addAll(List.of(extra));
        command.add(image.toString());
        command.add(size);
        ok(command.toArray(String[]::new));
    }

    static void assertCheckClean(Path image) throws IOException, InterruptedException {
        Result result = run("qemu-img", "check", "-U", image.toString());
        assertEquals(0, result.exitCode(), "qemu-img check " + image + ":\n" + result.stdout() + result.stderr());
    }

    static List<String> args(String... parts) {
        return new ArrayList<>(List.of(parts));
    }
}
