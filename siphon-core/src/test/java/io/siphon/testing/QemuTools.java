package io.siphon.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The interop peers (qemu-img, qemu-io, qemu-nbd, nbdinfo, fio...) found on PATH, run as processes
 * with a timeout, and readers for what they print: the oracles the tests compare Siphon with.
 */
public final class QemuTools {
    private static final long TIMEOUT_SECONDS = 120;
    private static final Pattern MAP_ENTRY = Pattern.compile("\\{([^}]*)}");

    private QemuTools() {}

    /** What a finished command printed and returned. */
    public record Result(List<String> command, int exitCode, String stdout, String stderr) {
        /** Throws an {@link AssertionError} showing the output unless the command exited with 0. */
        public Result requireSuccess() {
            if (exitCode != 0) {
                throw new AssertionError(this.toString());
            }
            return this;
        }

        @Override
        public String toString() {
            return String.join(" ", command) + " exited " + exitCode + "\nstdout: " + stdout + "\nstderr: " + stderr;
        }
    }

    /** Runs {@code command} with no input, waiting at most two minutes; any exit status is returned. */
    public static Result run(String... command) throws IOException, InterruptedException {
        return run(List.of(command));
    }

    /** Runs {@code command} with no input, waiting at most two minutes; any exit status is returned. */
    public static Result run(List<String> command) throws IOException, InterruptedException {
        return run(null, Duration.ofSeconds(TIMEOUT_SECONDS), command);
    }

    /**
     * Runs {@code command} with no input in {@code workingDir} (null: this process's), waiting at
     * most {@code timeout}; any exit status is returned.
     */
    public static Result run(Path workingDir, Duration timeout, List<String> command)
            throws IOException, InterruptedException {
        ProcessBuilder builder = new ProcessBuilder(command);
        if (workingDir != null) {
            builder.directory(workingDir.toFile());
        }
        Process process = builder.start();
        process.getOutputStream().close();
        CompletableFuture<String> stderr = drain(process.getErrorStream());
        CompletableFuture<String> stdout = drain(process.getInputStream());
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            process.destroyForcibly();
            throw new IOException(String.join(" ", command) + " did not finish in " + timeout);
        }
        return new Result(List.copyOf(command), process.exitValue(), join(stdout), join(stderr));
    }

    /** Runs a command that must succeed (else the test fails with its output); returns its standard output. */
    public static String ok(String... command) throws IOException, InterruptedException {
        return run(command).requireSuccess().stdout();
    }

    /** Skips the test unless every one of {@code tools} is on PATH. */
    public static void require(String... tools) {
        for (String tool : tools) {
            assumeTrue(onPath(tool), tool + " is not installed (scripts/test installs it)");
        }
    }

    /** Whether an executable named {@code tool} is on PATH. */
    public static boolean onPath(String tool) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            if (Files.isExecutable(Path.of(dir, tool))) {
                return true;
            }
        }
        return false;
    }

    /** Starts a long-running peer (qemu-nbd, nbdkit) logging to {@code log}; the caller destroys it. */
    public static Process start(List<String> command, Path log) throws IOException {
        return new ProcessBuilder(new ArrayList<>(command))
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
    }

    /**
     * Starts qemu-nbd serving {@code file} ({@code format}) read-only as {@code export} on the Unix
     * socket {@code socket} (replaced if it exists), for up to four clients at once and across
     * disconnects, logging to {@code log}; returns once the socket is there. The caller destroys it.
     */
    public static Process serveNbd(Path file, String format, Path socket, String export, Path log)
            throws IOException, InterruptedException {
        require("qemu-nbd");
        Files.deleteIfExists(socket);
        Process peer = start(
                List.of(
                        "qemu-nbd",
                        "-t",
                        "-r",
                        "-e",
                        "4",
                        "-k",
                        socket.toString(),
                        "-x",
                        export,
                        "-f",
                        format,
                        file.toString()),
                log);
        awaitSocket(socket, peer);
        return peer;
    }

    /** Waits until {@code socket} exists (a peer finished starting), at most ten seconds. */
    public static void awaitSocket(Path socket, Process process) throws InterruptedException, IOException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!Files.exists(socket)) {
            if (!process.isAlive()) {
                throw new IOException("peer exited with " + process.exitValue() + " before creating " + socket);
            }
            if (System.nanoTime() > deadline) {
                throw new IOException(socket + " did not appear in 10 s");
            }
            // a file appearing has no event to wait on short of a WatchService; poll it
            process.waitFor(50, TimeUnit.MILLISECONDS);
        }
    }

    /** {@code qemu-img create -q -f qcow2 [extra...] image size}, the extra arguments passed as given. */
    public static void createQcow2(Path image, String size, String... extra) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("qemu-img", "create", "-q", "-f", "qcow2"));
        command.addAll(List.of(extra));
        command.add(image.toString());
        command.add(size);
        ok(command.toArray(String[]::new));
    }

    /**
     * Creates an image of {@code format}, each of {@code options} passed with {@code -o}; with a
     * backing (of {@code backingFormat}), the backing name is stored as given.
     */
    public static void create(
            Path image, String format, long sizeBytes, String backingName, String backingFormat, String... options)
            throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("qemu-img", "create", "-q", "-f", format));
        if (backingName != null) {
            command.addAll(List.of("-b", backingName, "-F", backingFormat));
        }
        for (String option : options) {
            command.addAll(List.of("-o", option));
        }
        command.add(image.toString());
        command.add(Long.toString(sizeBytes));
        ok(command.toArray(String[]::new));
    }

    /** Creates a qcow2 image backed by {@code backingName} (stored as given, relative names kept). */
    public static void createOverlay(Path image, String backingName, String backingFormat)
            throws IOException, InterruptedException {
        ok("qemu-img", "create", "-q", "-f", "qcow2", "-b", backingName, "-F", backingFormat, image.toString());
    }

    /** Writes {@code pattern} bytes over {@code [offset, offset+length)} of an image (through its chain) with qemu-io. */
    public static void write(Path image, String format, int pattern, long offset, long length)
            throws IOException, InterruptedException {
        ok("qemu-io", "-f", format, "-c", "write -P " + pattern + " " + offset + " " + length, image.toString());
    }

    /** Runs several qemu-io commands (e.g. "write -P 7 0 64k", "write -z 1m 64k") on one image of {@code format}. */
    public static void io(Path image, String format, List<String> commands) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("qemu-io", "-f", format));
        for (String c : commands) {
            command.add("-c");
            command.add(c);
        }
        command.add(image.toString());
        ok(command.toArray(String[]::new));
    }

    /** The chain's contents flattened into a raw file ({@code qemu-img convert -O raw}). */
    public static void flatten(Path image, Path raw) throws IOException, InterruptedException {
        ok("qemu-img", "convert", "-U", "-O", "raw", image.toString(), raw.toString());
    }

    /** The whole disk the chain under {@code image} shows, flattened through a file in {@code scratch}. */
    public static byte[] rawContent(Path image, Path scratch) throws IOException, InterruptedException {
        Path raw = scratch.resolve("content-" + System.nanoTime() + ".raw");
        flatten(image, raw);
        try {
            return Files.readAllBytes(raw);
        } finally {
            Files.delete(raw);
        }
    }

    /** The files process {@code pid} (a QEMU, say) holds open, from {@code /proc/PID/fd}. */
    public static List<Path> openFiles(long pid) throws IOException {
        List<Path> out = new ArrayList<>();
        try (var fds = Files.list(Path.of("/proc", Long.toString(pid), "fd"))) {
            for (Path fd : fds.toList()) {
                try {
                    out.add(Files.readSymbolicLink(fd));
                } catch (IOException e) {
                    // closed while listing
                }
            }
        }
        return out;
    }

    /** Fails unless the two images read the same ({@code qemu-img compare}). */
    public static void assertSameContent(Path a, Path b) throws IOException, InterruptedException {
        ok("qemu-img", "compare", "-U", a.toString(), b.toString());
    }

    /** Fails unless {@code qemu-img check} finds the image clean (exit 0); returns its report. */
    public static String assertCheckClean(Path image) throws IOException, InterruptedException {
        Result result = run("qemu-img", "check", "-U", image.toString());
        assertEquals(0, result.exitCode(), "qemu-img check " + image + ":\n" + result.stdout() + result.stderr());
        return result.stdout();
    }

    /** {@code qemu-img info --output=json} of one image. */
    public static String infoJson(Path image) throws IOException, InterruptedException {
        return ok("qemu-img", "info", "-U", "--output=json", image.toString());
    }

    /** The backing file name recorded in {@code image}, or null when it has none. */
    public static String backingName(Path image) throws IOException, InterruptedException {
        return jsonString(infoJson(image), "backing-filename");
    }

    /** The backing format recorded in {@code image}, or null when it records none. */
    public static String backingFormat(Path image) throws IOException, InterruptedException {
        return jsonString(infoJson(image), "backing-filename-format");
    }

    /** A number field of a flat JSON object, or -1 when absent. */
    public static long jsonLong(String json, String field) {
        Matcher m =
                Pattern.compile("\"" + Pattern.quote(field) + "\":\\s*(-?\\d+)").matcher(json);
        return m.find() ? Long.parseLong(m.group(1)) : -1;
    }

    /** A string field of a flat JSON object, or null when absent. */
    public static String jsonString(String json, String field) {
        Matcher m = Pattern.compile("\"" + Pattern.quote(field) + "\":\\s*\"([^\"]*)\"")
                .matcher(json);
        return m.find() ? m.group(1) : null;
    }

    /** A boolean field of a flat JSON object, false when absent. */
    public static boolean jsonBool(String json, String field) {
        Matcher m = Pattern.compile("\"" + Pattern.quote(field) + "\":\\s*(true|false)")
                .matcher(json);
        return m.find() && Boolean.parseBoolean(m.group(1));
    }

    /** One entry of {@code qemu-img map --output=json}. */
    public record MapEntry(
            long start, long length, long depth, boolean present, boolean zero, boolean data, long offset) {}

    /** The entries of {@code qemu-img map --output=json}'s output. */
    public static List<MapEntry> map(String json) {
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

    private static CompletableFuture<String> drain(InputStream stream) {
        return CompletableFuture.supplyAsync(
                () -> {
                    try (stream) {
                        return new String(stream.readAllBytes(), StandardCharsets.UTF_8);
                    } catch (IOException e) {
                        return "(output unreadable: " + e + ")";
                    }
                },
                Thread::startVirtualThread);
    }

    private static String join(CompletableFuture<String> output) throws IOException, InterruptedException {
        try {
            return output.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (ExecutionException | TimeoutException e) {
            throw new IOException("could not collect a command's output", e);
        }
    }

    /**
     * An interactive {@code qemu-io} that holds an image open (and locked) until closed. It has
     * written a 4 KiB pattern of 0x5a at offset 0 (of the image, through its format) when the
     * constructor returns, which proves the image is open.
     */
    public static final class QemuIoSession implements AutoCloseable {
        private final Process process;
        private final OutputStream stdin;

        public QemuIoSession(String format, Path image) throws IOException, InterruptedException {
            process = new ProcessBuilder("qemu-io", "-f", format, image.toString()).start();
            stdin = process.getOutputStream();
            CompletableFuture<String> stderr = drain(process.getErrorStream());
            stdin.write("write -P 0x5a 0 4k\n".getBytes(StandardCharsets.US_ASCII));
            stdin.flush();
            BufferedReader stdout =
                    new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
            CompletableFuture<Boolean> wrote = CompletableFuture.supplyAsync(
                    () -> {
                        try {
                            for (String line = stdout.readLine(); line != null; line = stdout.readLine()) {
                                if (line.contains("wrote 4096/4096 bytes")) {
                                    return true;
                                }
                            }
                            return false;
                        } catch (IOException e) {
                            return false;
                        }
                    },
                    Thread::startVirtualThread);
            boolean ready;
            try {
                ready = wrote.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
            } catch (ExecutionException | TimeoutException e) {
                ready = false;
            }
            if (!ready) {
                process.destroyForcibly();
                throw new IOException("qemu-io did not open " + image + ": " + join(stderr));
            }
            // keep stdout drained so that qemu-io never blocks on a full pipe
            Thread.startVirtualThread(() -> {
                try {
                    stdout.transferTo(Writer.nullWriter());
                } catch (IOException e) {
                    // the process went away; nothing left to drain
                }
            });
        }

        /** Asks qemu-io to quit and waits for it; kills it if it does not. */
        @Override
        public void close() throws IOException, InterruptedException {
            try {
                stdin.write("quit\n".getBytes(StandardCharsets.US_ASCII));
                stdin.close();
            } catch (IOException e) {
                // already gone
            }
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
            }
        }
    }
}
