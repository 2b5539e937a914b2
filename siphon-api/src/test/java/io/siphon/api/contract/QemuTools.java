package io.siphon.api.contract;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Runs qemu-img and qemu-io, the oracles for image contents and links. */
public final class QemuTools {
    private QemuTools() {}

    /** Runs {@code command}; a non-zero exit is an assertion failure showing the output. */
    public static String run(String... command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        int exit = process.waitFor();
        if (exit != 0) {
            throw new AssertionError(String.join(" ", command) + " exited " + exit + ": " + output);
        }
        return output;
    }

    /** Writes {@code pattern} bytes over {@code [offset, offset+length)} of an image with qemu-io. */
    public static void write(Path image, String format, int pattern, long offset, long length)
            throws IOException, InterruptedException {
        run("qemu-io", "-f", format, "-c", "write -P " + pattern + " " + offset + " " + length, image.toString());
    }

    /** Creates a qcow2 image backed by {@code backing} (named as given, relative names kept). */
    public static void createOverlay(Path image, String backingName, String backingFormat)
            throws IOException, InterruptedException {
        run("qemu-img", "create", "-q", "-f", "qcow2", "-b", backingName, "-F", backingFormat, image.toString());
    }

    /** The chain's contents flattened into a raw file, for comparing after a pull. */
    public static void flatten(Path image, Path raw) throws IOException, InterruptedException {
        run("qemu-img", "convert", "-U", "-O", "raw", image.toString(), raw.toString());
    }

    /** The backing file name recorded in {@code image}, or "" for none. */
    public static String backingName(Path image) throws IOException, InterruptedException {
        for (String line : run("qemu-img", "info", "-U", image.toString()).split("\n")) {
            if (line.startsWith("backing file: ")) {
                String name = line.substring("backing file: ".length());
                int actual = name.indexOf(" (actual path:");
                return actual >= 0 ? name.substring(0, actual) : name;
            }
        }
        return "";
    }

    /** The files process {@code pid} (a QEMU) holds open, from {@code /proc/PID/fd}. */
    public static List<Path> openFiles(long pid) throws IOException {
        List<Path> out = new ArrayList<>();
        try (var fds = java.nio.file.Files.list(Path.of("/proc", Long.toString(pid), "fd"))) {
            for (Path fd : fds.toList()) {
                try {
                    out.add(java.nio.file.Files.readSymbolicLink(fd));
                } catch (IOException e) {
                    // closed while listing
                }
            }
        }
        return out;
    }

    /** Whether the two images read the same ({@code qemu-img compare}). */
    public static void assertSameContent(Path a, Path b) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("qemu-img", "compare", "-U", a.toString(), b.toString()));
        run(command.toArray(String[]::new));
    }
}
