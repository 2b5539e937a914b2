package io.siphon.bench;

import io.siphon.format.Formats;
import io.siphon.format.ImageFormat;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Sequential and scattered 4 KiB reads and writes through Siphon's engine and through {@code
 * qemu-img bench}, on the same image files, in one run; prints the median throughput of each and
 * their ratio. Both go through the host page cache. Not a test: timings decide nothing here.
 *
 * <p>Usage: {@code ImageIoBench [--dir DIR] [--size-mib N] [--runs N] [--depth N] [--threads
 * virtual|platform] [--formats raw,qcow2]}.
 */
public final class ImageIoBench {
    private static final List<String> QEMU_PAGE_CACHE = List.of("-t", "writeback", "-i", "threads");

    private ImageIoBench() {}

    /** Options with their defaults. */
    record Options(Path dir, long sizeMiB, int runs, int depth, boolean virtualThreads, List<String> formats) {
        static Options parse(String[] args) throws IOException {
            Path dir = null;
            long sizeMiB = 512;
            int runs = 5;
            int depth = 16;
            boolean virtualThreads = true;
            List<String> formats = Formats.all().stream().map(ImageFormat::name).toList();
            for (int i = 0; i < args.length; i++) {
                String value = i + 1 < args.length ? args[i + 1] : "";
                switch (args[i]) {
                    case "--dir" -> dir = Path.of(value);
                    case "--size-mib" -> sizeMiB = Long.parseLong(value);
                    case "--runs" -> runs = Integer.parseInt(value);
                    case "--depth" -> depth = Integer.parseInt(value);
                    case "--threads" ->
                        virtualThreads = switch (value) {
                            case "virtual" -> true;
                            case "platform" -> false;
                            default -> throw new IllegalArgumentException("--threads takes virtual or platform");
                        };
                    case "--formats" -> formats = Arrays.asList(value.split(","));
                    default ->
                        throw new IllegalArgumentException(
                                "unknown option " + args[i]
                                        + "; usage: [--dir DIR] [--size-mib N] [--runs N] [--depth N] [--threads virtual|platform] [--formats raw,qcow2]");
                }
                i++;
            }
            if (dir == null) {
                dir = Files.createTempDirectory("siphon-bench");
            }
            if (runs < 1 || depth < 1 || sizeMiB < 1) {
                throw new IllegalArgumentException("runs, depth and size must be positive");
            }
            return new Options(dir, sizeMiB, runs, depth, virtualThreads, formats);
        }
    }

    public static void main(String[] args) throws Exception {
        Options options = Options.parse(args);
        PrintStream out = System.out;
        long imageBytes = options.sizeMiB() << 20;
        List<Workload> workloads = List.of(
                Workload.sequential(64 << 10, 2 * imageBytes / (64 << 10), false),
                Workload.sequential(64 << 10, 2 * imageBytes / (64 << 10), true),
                Workload.scattered(4 << 10, 200_000, false),
                Workload.scattered(4 << 10, 200_000, true));

        out.println("# Siphon vs " + qemuVersion() + ", same files, page cache (qemu-img bench "
                + String.join(" ", QEMU_PAGE_CACHE) + "), depth " + options.depth() + " (Siphon: "
                + (options.virtualThreads() ? "virtual" : "platform") + " threads), image "
                + options.sizeMiB() + " MiB, median of " + options.runs() + " runs after one warm-up each");
        out.println(
                "# " + Runtime.getRuntime().availableProcessors() + " CPUs, load average at start: " + loadAverage());
        out.printf(
                "%-7s %-20s %12s %12s %12s %12s %8s%n",
                "format", "workload", "siphon MiB/s", "qemu MiB/s", "siphon IOPS", "qemu IOPS", "ratio");
        Path raw = options.dir().resolve("bench.raw");
        fillRaw(raw, imageBytes);
        try {
            for (String format : options.formats()) {
                Path image = format.equals("raw") ? raw : convert(raw, options.dir(), format);
                for (Workload workload : workloads) {
                    Result result = measure(image, format, workload, options);
                    out.printf(
                            "%-7s %-20s %12.1f %12.1f %12.0f %12.0f %8.2f%n",
                            format,
                            workload.name(),
                            result.siphonMiBPerSecond(),
                            result.qemuMiBPerSecond(),
                            result.siphonMiBPerSecond() * (1 << 20) / workload.blockBytes(),
                            result.qemuMiBPerSecond() * (1 << 20) / workload.blockBytes(),
                            result.siphonMiBPerSecond() / result.qemuMiBPerSecond());
                }
                if (!image.equals(raw)) {
                    Files.delete(image);
                }
            }
        } finally {
            Files.deleteIfExists(raw);
        }
        out.println("# ratio = Siphon throughput / QEMU throughput (above 1: Siphon is faster)");
    }

    /** Median throughputs of one workload on one image. */
    record Result(double siphonMiBPerSecond, double qemuMiBPerSecond) {}

    private static Result measure(Path image, String format, Workload workload, Options options)
            throws IOException, InterruptedException {
        List<String> qemuCommand = QemuImgBench.command(image, format, workload, options.depth(), QEMU_PAGE_CACHE);
        // one untimed round each: the JIT compiles Siphon's path, and both find the file in the cache
        SiphonRun.seconds(image, format, workload, options.depth(), options.virtualThreads());
        QemuImgBench.seconds(qemuCommand);
        double[] siphon = new double[options.runs()];
        double[] qemu = new double[options.runs()];
        // interleaved, so that a change in the machine's load hits both alike
        for (int run = 0; run < options.runs(); run++) {
            siphon[run] = SiphonRun.seconds(image, format, workload, options.depth(), options.virtualThreads());
            qemu[run] = QemuImgBench.seconds(qemuCommand);
        }
        double mebibytes = workload.totalBytes() / (double) (1 << 20);
        return new Result(mebibytes / median(siphon), mebibytes / median(qemu));
    }

    static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int middle = sorted.length / 2;
        return sorted.length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }

    /** Writes random data over the whole raw file, so that reads find data and writes overwrite it. */
    private static void fillRaw(Path raw, long imageBytes) throws IOException {
        Random random = new Random(1);
        ByteBuffer chunk = ByteBuffer.allocateDirect(1 << 20);
        byte[] bytes = new byte[1 << 20];
        try (FileChannel channel = FileChannel.open(
                raw, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, StandardOpenOption.READ)) {
            for (long offset = 0; offset < imageBytes; offset += bytes.length) {
                random.nextBytes(bytes);
                chunk.clear().put(bytes).flip();
                while (chunk.hasRemaining()) {
                    channel.write(chunk, offset + chunk.position());
                }
            }
            channel.force(true);
        }
    }

    /** The raw image converted to {@code format} by qemu-img, fully allocated. */
    private static Path convert(Path raw, Path dir, String format) throws IOException, InterruptedException {
        Path image = dir.resolve("bench." + format);
        Files.deleteIfExists(image);
        Command.output(List.of("qemu-img", "convert", "-f", "raw", "-O", format, raw.toString(), image.toString()));
        return image;
    }

    private static String qemuVersion() throws IOException, InterruptedException {
        String output = Command.output(List.of("qemu-img", "--version"));
        return output.lines().findFirst().orElse("qemu-img").trim();
    }

    /** The 1-, 5- and 15-minute load averages, which say how much the figures can be trusted. */
    private static String loadAverage() throws IOException {
        Path loadavg = Path.of("/proc/loadavg");
        if (!Files.isReadable(loadavg)) {
            return "unknown";
        }
        String[] fields = Files.readString(loadavg).trim().split(" ");
        return String.join(" ", Arrays.copyOf(fields, Math.min(3, fields.length)));
    }
}
