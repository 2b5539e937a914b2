package io.siphon.testing;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Crash tests' child JVM: started on the test's class path, killed (SIGKILL) at a chosen moment. */
public final class KilledChild {
    private KilledChild() {}

    /**
     * Runs {@code main} with {@code args} in a new JVM, waits for it to print {@code readyLine}, then
     * kills it {@code killAfterMillis} later; the delay counts from that line, however slow the JVM
     * was to start. A child that ends by itself fails the test.
     */
    public static void runAndKill(Class<?> main, List<String> args, String readyLine, long killAfterMillis)
            throws Exception {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED",
                "-Xmx256m",
                "-cp",
                System.getProperty("java.class.path"),
                main.getName()));
        command.addAll(args);
        Process child = new ProcessBuilder(command).redirectErrorStream(true).start();
        StringBuilder output = new StringBuilder();
        try (BufferedReader lines =
                new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = lines.readLine()) != null && !line.equals(readyLine)) {
                output.append(line).append('\n');
            }
            if (line == null) {
                child.waitFor();
                fail("the child ended before it was ready, with " + child.exitValue() + ":\n" + output);
            }
            if (child.waitFor(killAfterMillis, TimeUnit.MILLISECONDS)) {
                fail("the child exited by itself with " + child.exitValue());
            }
            child.destroyForcibly(); // SIGKILL
            child.waitFor();
        }
    }
}
