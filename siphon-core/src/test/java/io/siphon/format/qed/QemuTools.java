package io.siphon.format.qed;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Runs QEMU's tools (qemu-img, qemu-io) from PATH and reads their JSON output. */
final class QemuTools {
    private static final Pattern MAP_ENTRY = Pattern.compile("\\{([^}]*)}");

    private QemuTools() {}

    /** What a finished tool printed. */
    record Result(int exitCode, String stdout, String stderr) {
        @Override
        public String toString() {
            return "exit " + exitCode + "\nstdout:\n" + stdout + "\nstderr:\n" + stderr;
        }
    }

    static Result run(String... command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).start();
        process.getOutputStream().close();
        CompletableFuture<byte[]> err = CompletableFuture.supplyAsync(() -> {
            try {
                return process.getErrorStream().readAllBytes();
            } catch (IOException e) {
                return e.toString().getBytes(StandardCharsets.UTF_8);
            }
        });
        byte[] out = process.getInputStream().readAllBytes();
        if (!process.waitFor(120, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IOException("timed out: " + String.join(" ", command));
        }
        return new Result(
                process.exitValue(),
                new String(out, StandardCharsets.UTF_8),
                new String(err.join(), StandardCharsets.UTF_8));
    }

    /** Runs the command and fails the test unless it exits 0. */
    static String ok(String... command) throws IOException, InterruptedException {
        Result result = run(command);
        assertEquals(0, result.exitCode(), () -> String.join(" ", command) + "\n" + result);
        return result.stdout();
    }

    /** A number field of a flat JSON object, or -1 when absent. */
    static long jsonLong(String json, String field) {
        Matcher m =
                Pattern.compile("\"" + Pattern.quote(field) + "\":\\s*(-?\\d+)").matcher(json);
        return m.find() ? Long.parseLong(m.group(1)) : -1;
    }

    static String jsonString(String json, String field) {
        Matcher m = Pattern.compile("\"" + Pattern.quote(field) + "\":\\s*\"([^\"]*)\"")
                .matcher(json);
        return m.find() ? m.group(1) : null;
    }

    static boolean jsonBool(String json, String field) {
        Matcher m = Pattern.compile("\"" + Pattern.quote(field) + "\":\\s*(true|false)")
                .matcher(json);
        return m.find() && Boolean.parseBoolean(m.group(1));
    }

    /** One entry of {@code qemu-img map --output=json}. */
    record MapEntry(long start, long length, long depth, boolean present, boolean zero, boolean data, long offset) {}

    static List<MapEntry> map(String json) {
        List<MapEntry> entries = new ArrayList<>();
        Matcher m = MAP_ENTRY.matcher(json);
        while (m.find()) {
            String e = m.group(1);
            entries.add(new MapEntry(
                    jsonLong(e, "start"),
                    jsonLong(e, "length"),
                    jsonLong(e, "depth"),
                    jsonBool(e, "present"),
                    jsonBool(e, "zero"),
                    jsonBool(e, "data"),
                    jsonLong(e, "offset")));
        }
        return entries;
    }
}
