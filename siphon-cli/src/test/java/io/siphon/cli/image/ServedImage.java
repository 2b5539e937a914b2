package io.siphon.cli.image;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.cli.Main;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** {@code siphon image serve ARGS} in a child JVM, as a user runs it, with the URI it printed. */
record ServedImage(Process process, String uri, Path stderr) {
    /** Starts serving; stderr goes to {@code dir/serve.err}. */
    static ServedImage start(Path dir, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED",
                "-cp",
                System.getProperty("java.class.path"),
                Main.class.getName(),
                "image",
                "serve"));
        command.addAll(List.of(args));
        Path stderr = dir.resolve("serve.err");
        Process process =
                new ProcessBuilder(command).redirectError(stderr.toFile()).start();
        BufferedReader out =
                new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        String uri = out.readLine();
        ServedImage served = new ServedImage(process, uri, stderr);
        assertTrue(uri != null && uri.startsWith("nbd"), () -> "no URI printed; stderr: " + served.errors());
        return served;
    }

    String errors() {
        try {
            return Files.readString(stderr);
        } catch (IOException e) {
            return e.toString();
        }
    }

    /** SIGTERM, and the wait for the process to end. */
    void stop() throws InterruptedException {
        process.destroy();
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "serve did not stop on SIGTERM");
    }
}
