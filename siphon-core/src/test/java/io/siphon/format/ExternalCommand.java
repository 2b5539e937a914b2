package io.siphon.format;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** Runs a peer tool (qemu-img, qemu-io...) found on PATH, for interop tests. */
public final class ExternalCommand {
    private static final long TIMEOUT_SECONDS = 120;

    /** What a finished command printed and returned. */
    public record Result(List<String> command, int exitCode, String stdout, String stderr) {
        /** Throws unless the command exited with 0. */
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

    private ExternalCommand() {}

    /** Runs {@code command} with no input, waiting at most two minutes. */
    public static Result run(String... command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).start();
        process.getOutputStream().close();
        CompletableFuture<String> stderr = drain(process.getErrorStream());
        CompletableFuture<String> stdout = drain(process.getInputStream());
        if (!process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IOException(String.join(" ", command) + " did not finish in " + TIMEOUT_SECONDS + " s");
        }
        return new Result(List.of(command), process.exitValue(), join(stdout), join(stderr));
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
        private final CompletableFuture<String> stderr;

        public QemuIoSession(String format, java.nio.file.Path image) throws IOException, InterruptedException {
            process = new ProcessBuilder("qemu-io", "-f", format, image.toString()).start();
            stdin = process.getOutputStream();
            stderr = drain(process.getErrorStream());
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
                    stdout.transferTo(java.io.Writer.nullWriter());
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
