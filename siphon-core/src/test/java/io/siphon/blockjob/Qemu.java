package io.siphon.blockjob;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs qemu-img and qemu-io from PATH for tests, failing with their output when they fail. */
final class Qemu {
    private Qemu() {}

    /** Runs a command, returns its standard output; a non-zero exit fails the test with its output. */
    static String run(String... command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        byte[] out = process.getInputStream().readAllBytes();
        if (!process.waitFor(5, TimeUnit.MINUTES)) {
            process.destroyForcibly();
            throw new IOException("timed out: " + String.join(" ", command));
        }
        String text = new String(out, StandardCharsets.UTF_8);
        assertEquals(0, process.exitValue(), String.join(" ", command) + " failed:\n" + text);
        return text;
    }

    /** Exit status and output of a command that may fail. */
    static int status(List<String> output, String... command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        output.add(new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
        return process.waitFor();
    }

    /** Creates a qcow2 image; with a backing, the backing name is stored as given. */
    static void createQcow2(Path image, long sizeBytes, String backingName, String... extraOptions)
            throws IOException, InterruptedException {
        create(image, "qcow2", sizeBytes, backingName, "qcow2", extraOptions);
    }

    /**
     * Creates an image of {@code format}; with a backing (of {@code backingFormat}), the backing name
     * is stored as given.
     */
    static void create(
            Path image, String format, long sizeBytes, String backingName, String backingFormat, String... extraOptions)
            throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("qemu-img", "create", "-q", "-f", format));
        if (backingName != null) {
            command.addAll(List.of("-b", backingName, "-F", backingFormat));
        }
        for (String option : extraOptions) {
            command.addAll(List.of("-o", option));
        }
        command.add(image.toString());
        command.add(Long.toString(sizeBytes));
        run(command.toArray(String[]::new));
    }

    /** Writes a pattern byte over a range with qemu-io (through the chain, as a guest would). */
    static void writePattern(Path image, int pattern, long offsetBytes, long lengthBytes)
            throws IOException, InterruptedException {
        run(
                "qemu-io",
                "-f",
                "qcow2",
                "-c",
                "write -P " + pattern + " " + offsetBytes + " " + lengthBytes,
                image.toString());
    }

    /** Runs several qemu-io commands (e.g. "write -P 7 0 64k", "write -z 1m 64k") on one image. */
    static void io(Path image, List<String> commands) throws IOException, InterruptedException {
        io(image, "qcow2", commands);
    }

    /** Runs several qemu-io commands on one image of {@code format}. */
    static void io(Path image, String format, List<String> commands) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("qemu-io", "-f", format));
        for (String c : commands) {
            command.add("-c");
            command.add(c);
        }
        command.add(image.toString());
        run(command.toArray(String[]::new));
    }

    /** The whole disk the chain under {@code image} shows, as qemu-img convert -O raw produces it. */
    static byte[] rawContent(Path image, Path scratch) throws IOException, InterruptedException {
        Path raw = scratch.resolve("content-" + System.nanoTime() + ".raw");
        run("qemu-img", "convert", "-U", "-O", "raw", image.toString(), raw.toString());
        try {
            return Files.readAllBytes(raw);
        } finally {
            Files.delete(raw);
        }
    }

    /** qemu-img check's output; fails the test unless the image is clean (exit 0). */
    static String checkClean(Path image) throws IOException, InterruptedException {
        return run("qemu-img", "check", image.toString());
    }

    /** qemu-img info --output=json of one image. */
    static String infoJson(Path image) throws IOException, InterruptedException {
        return run("qemu-img", "info", "-U", "--output=json", image.toString());
    }

    /** The backing file name qemu-img info shows, or null when the image has none. */
    static String backingName(Path image) throws IOException, InterruptedException {
        return infoField(image, "backing-filename");
    }

    /** The backing format qemu-img info shows, or null when the image records none. */
    static String backingFormat(Path image) throws IOException, InterruptedException {
        return infoField(image, "backing-filename-format");
    }

    private static String infoField(Path image, String field) throws IOException, InterruptedException {
        String json = infoJson(image);
        String key = "\"" + field + "\": \"";
        int at = json.indexOf(key);
        if (at < 0) {
            return null;
        }
        int start = at + key.length();
        return json.substring(start, json.indexOf('"', start));
    }
}
