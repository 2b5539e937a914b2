package io.siphon.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** Runs a peer tool found on PATH and returns what it printed. */
final class Command {
    private Command() {}

    /** Output (stdout and stderr together) of {@code command}; an exit code other than 0 is an error. */
    static String output(List<String> command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        process.getOutputStream().close();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (process.waitFor() != 0) {
            throw new IOException(String.join(" ", command) + " exited " + process.exitValue() + ":\n" + output);
        }
        return output;
    }
}
