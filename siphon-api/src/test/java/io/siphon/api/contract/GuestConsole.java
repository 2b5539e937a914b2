package io.siphon.api.contract;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.Predicate;

/**
 * A guest's serial console file, as QEMU writes it.
 *
 * @param file the file the domain XML's {@code <serial type='file'>} names
 */
public record GuestConsole(Path file) {
    /** The lines so far. */
    public List<String> lines() throws IOException {
        if (!Files.exists(file)) {
            return List.of();
        }
        return new String(Files.readAllBytes(file), StandardCharsets.UTF_8)
                .lines()
                .toList();
    }

    /** Waits until a line matches {@code condition}; fails showing the console after {@code timeout}. */
    public void await(Predicate<String> condition, String what, Duration timeout)
            throws IOException, InterruptedException {
        awaitLines(lines -> lines.stream().anyMatch(condition), what, timeout);
    }

    /** Waits until the lines so far satisfy {@code condition}; fails showing the console after {@code timeout}. */
    public void awaitLines(Predicate<List<String>> condition, String what, Duration timeout)
            throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.test(lines())) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no console line " + what + " within " + timeout.toSeconds() + " s:\n"
                        + String.join("\n", lines()));
            }
            // the console is a file QEMU appends to: nothing to wait on but its contents
            Thread.sleep(100);
        }
    }
}
