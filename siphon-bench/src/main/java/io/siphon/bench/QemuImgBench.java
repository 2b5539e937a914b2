package io.siphon.bench;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Runs a workload with {@code qemu-img bench} and reads the time it reports. */
final class QemuImgBench {
    private static final Pattern COMPLETED = Pattern.compile("Run completed in ([0-9.]+) seconds");

    private QemuImgBench() {}

    /**
     * The command: {@code cacheArgs} choose QEMU's cache mode and AIO engine, such as {@code -t
     * writeback -i threads} (through the page cache, as Siphon) or {@code -t none -n} (O_DIRECT).
     */
    static List<String> command(Path image, String format, Workload workload, int depth, List<String> cacheArgs) {
        List<String> command = new ArrayList<>(List.of("qemu-img", "bench", "-f", format));
        command.addAll(cacheArgs);
        if (workload.write()) {
            command.add("-w");
        }
        command.addAll(List.of(
                "-c",
                Long.toString(workload.count()),
                "-d",
                Integer.toString(depth),
                "-s",
                Integer.toString(workload.blockBytes()),
                "-S",
                Long.toString(workload.stepBytes()),
                image.toString()));
        return command;
    }

    /** Seconds qemu-img bench reports for the run. */
    static double seconds(List<String> command) throws IOException, InterruptedException {
        String output = Command.output(command);
        Matcher completed = COMPLETED.matcher(output);
        if (!completed.find()) {
            throw new IOException(String.join(" ", command) + " printed no time:\n" + output);
        }
        return Double.parseDouble(completed.group(1));
    }
}
