package io.siphon.format.fuzz;

import static org.junit.jupiter.api.Assertions.fail;

import io.siphon.format.Image;
import io.siphon.format.ImageChain;
import io.siphon.format.OpenOptions;
import io.siphon.format.RepairMode;
import io.siphon.testing.QemuTools;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A seeded, structure-aware fuzzer for the qcow2 and QED parsers, readers and checkers: each case
 * takes a qemu-img-made seed image and sets a field of its header, L1, L2 or refcount structures
 * (found from the header, as the format lays them out) to an interesting or random value, or cuts
 * the file short. Opening it, reading it, asking block status, checking it and repairing a copy must
 * end in a typed {@link IOException} or succeed, within a time limit: any other exception, an {@link
 * Error} or a hang is a finding, written to {@code target/fuzz-findings} with its seed. The cases in
 * {@code src/test/resources/fuzz-corpus} (findings that were fixed) run first. Iterations come from
 * {@code siphon.reliability.fuzz.cases} (default 150 per format; {@code scripts/reliability} runs
 * thousands); the base seed from {@code siphon.reliability.fuzz.seed}.
 */
class ImageFuzzTest {
    private static final long TIMEOUT_SECONDS = 20;
    private static final long[] INTERESTING = {
        0,
        1,
        -1,
        0x8000000000000000L,
        0x7fffffffffffffffL,
        512,
        65535,
        65536,
        65537,
        1L << 32,
        1L << 40,
        0x00fffffffffffe00L,
        0x3f000000000001feL
    };

    @TempDir
    Path dir;

    @Test
    void qcow2() throws Exception {
        fuzz("qcow2", List.of("-o", "cluster_size=4096"));
    }

    @Test
    void qed() throws Exception {
        fuzz("qed", List.of("-o", "cluster_size=4096"));
    }

    private void fuzz(String format, List<String> createOptions) throws Exception {
        int cases = Integer.getInteger("siphon.reliability.fuzz.cases", 150);
        long baseSeed = Long.getLong("siphon.reliability.fuzz.seed", System.nanoTime());
        System.out.println("fuzz " + format + ": base seed " + baseSeed + ", " + cases + " cases");
        Path seed = dir.resolve("seed." + format);
        List<String> create = new ArrayList<>(List.of("qemu-img", "create", "-q", "-f", format));
        create.addAll(createOptions);
        create.addAll(List.of(seed.toString(), "4M"));
        QemuTools.ok(create.toArray(String[]::new));
        QemuTools.ok(
                "qemu-io",
                "-c",
                "write -P 0x41 0 64k",
                "-c",
                "write -P 0x42 1M 8k",
                "-c",
                "write -z 2M 64k",
                seed.toString());
        byte[] seedBytes = Files.readAllBytes(seed);
        List<String> findings = new ArrayList<>();
        int typedErrors = 0;
        for (Path corpusCase : corpus(format)) {
            if (run(
                    format,
                    Files.readAllBytes(corpusCase),
                    corpusCase.getFileName().toString(),
                    findings)) {
                typedErrors++;
            }
        }
        for (int i = 0; i < cases; i++) {
            long caseSeed = baseSeed + i;
            byte[] mutant = Mutator.mutate(format, seedBytes, new Random(caseSeed));
            if (run(format, mutant, "seed " + caseSeed, findings)) {
                typedErrors++;
            }
        }
        System.out.printf(
                "fuzz %s: %d executions, %d refused with a typed error, %d findings%n",
                format, cases, typedErrors, findings.size());
        if (!findings.isEmpty()) {
            fail(findings.size() + " findings (kept in target/fuzz-findings):\n" + String.join("\n", findings));
        }
    }

    /** Runs one case; true when it ended in a typed error. */
    private boolean run(String format, byte[] bytes, String label, List<String> findings) throws Exception {
        Path image = dir.resolve("case." + format);
        Files.write(image, bytes);
        ExecutorService worker = Executors.newSingleThreadExecutor();
        try {
            Future<Boolean> outcome = worker.submit(() -> exercise(format, image));
            return outcome.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            keep(format, bytes, label, findings, "no answer in " + TIMEOUT_SECONDS + " s");
        } catch (ExecutionException e) {
            keep(format, bytes, label, findings, e.getCause().toString());
        } finally {
            worker.shutdownNow();
        }
        return false;
    }

    private static boolean exercise(String format, Path image) throws Exception {
        try {
            try (Image opened = ImageChain.openOne(image, Optional.of(format), OpenOptions.READ_ONLY)) {
                opened.info();
                long size = opened.sizeBytes();
                for (long offset : new long[] {0, 1 << 20, 2 << 20, Math.max(0, size - 4096)}) {
                    if (offset + 4096 <= size) {
                        opened.read(offset, ByteBuffer.allocate(4096), Set.of());
                        opened.blockStatus(offset, Math.min(1 << 20, size - offset));
                    }
                }
                opened.check(RepairMode.NONE);
            }
            try (Image writable = ImageChain.openOne(image, Optional.of(format), OpenOptions.READ_WRITE)) {
                writable.check(RepairMode.ALL);
                if (writable.sizeBytes() >= 8192) {
                    writable.write(4096, ByteBuffer.allocate(4096), Set.of());
                    writable.flush();
                }
            }
            return false;
        } catch (IOException typed) {
            return true;
        }
    }

    private void keep(String format, byte[] bytes, String label, List<String> findings, String what) {
        try {
            Path kept = Path.of("target", "fuzz-findings");
            Files.createDirectories(kept);
            Path file = kept.resolve(label.replace(' ', '-') + "." + format);
            Files.write(file, bytes);
            findings.add(label + ": " + what + " (" + file + ")");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static List<Path> corpus(String format) throws IOException {
        Path dir = Path.of("src", "test", "resources", "fuzz-corpus");
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(f -> f.toString().endsWith("." + format))
                    .sorted()
                    .toList();
        }
    }

    /** Structure-aware mutations of a seed image. */
    static final class Mutator {
        private Mutator() {}

        static byte[] mutate(String format, byte[] seed, Random random) {
            byte[] out = seed.clone();
            int mutations = 1 + random.nextInt(3);
            for (int m = 0; m < mutations; m++) {
                out = format.equals("qcow2") ? mutateQcow2(out, random) : mutateQed(out, random);
            }
            return out;
        }

        private static byte[] mutateQcow2(byte[] image, Random random) {
            if (image.length < 104) {
                return flip(image, random); // cut short by an earlier mutation: no header left to read
            }
            ByteBuffer b = ByteBuffer.wrap(image).order(ByteOrder.BIG_ENDIAN);
            int clusterSize = 1 << Math.min(30, Math.max(9, b.getInt(20)));
            long l1 = b.getLong(40);
            long refcountTable = b.getLong(48);
            return switch (random.nextInt(6)) {
                case 0 ->
                    setField(
                            image,
                            ByteOrder.BIG_ENDIAN,
                            pick(random, 0, 4, 8, 16, 20, 24, 32, 36, 40, 48, 56, 60, 64, 72, 80, 88, 96, 100),
                            random);
                case 1 -> setEntry(image, ByteOrder.BIG_ENDIAN, l1, 8, random);
                case 2 -> setEntry(image, ByteOrder.BIG_ENDIAN, l2Of(b, l1, image.length), clusterSize / 8, random);
                case 3 -> setEntry(image, ByteOrder.BIG_ENDIAN, refcountTable, 8, random);
                case 4 ->
                    setEntry(
                            image,
                            ByteOrder.BIG_ENDIAN,
                            firstEntry(b, refcountTable, image.length),
                            clusterSize / 8,
                            random);
                default -> cut(image, random);
            };
        }

        private static byte[] mutateQed(byte[] image, Random random) {
            if (image.length < 64) {
                return flip(image, random);
            }
            ByteBuffer b = ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN);
            long clusterSize = Math.max(4096, b.getInt(4) & 0xffffffffL);
            long tableEntries = clusterSize * Math.max(1, b.getInt(8) & 0xff) / 8;
            long l1 = b.getLong(40);
            return switch (random.nextInt(4)) {
                case 0 ->
                    setField(
                            image,
                            ByteOrder.LITTLE_ENDIAN,
                            pick(random, 0, 4, 8, 12, 16, 24, 32, 40, 48, 56, 60),
                            random);
                case 1 -> setEntry(image, ByteOrder.LITTLE_ENDIAN, l1, (int) Math.min(tableEntries, 64), random);
                case 2 ->
                    setEntry(
                            image,
                            ByteOrder.LITTLE_ENDIAN,
                            firstEntry(b, l1, image.length),
                            (int) Math.min(tableEntries, 64),
                            random);
                default -> cut(image, random);
            };
        }

        private static long l2Of(ByteBuffer b, long l1, int length) {
            return firstEntry(b, l1, length) & 0x00fffffffffffe00L;
        }

        /** The first table entry at {@code table}, or -1 when the table is not in the file. */
        private static long firstEntry(ByteBuffer b, long table, int length) {
            return table >= 0 && table <= length - 8 ? b.getLong((int) table) : -1; // no overflow near Long.MAX
        }

        private static int pick(Random random, int... choices) {
            return choices[random.nextInt(choices.length)];
        }

        private static long value(Random random) {
            return random.nextBoolean() ? INTERESTING[random.nextInt(INTERESTING.length)] : random.nextLong();
        }

        private static byte[] setField(byte[] image, ByteOrder order, int offset, Random random) {
            ByteBuffer b = ByteBuffer.wrap(image).order(order);
            long v = value(random);
            if (random.nextBoolean() && offset + 8 <= image.length) {
                b.putLong(offset, v);
            } else if (offset + 4 <= image.length) {
                b.putInt(offset, (int) v);
            }
            return image;
        }

        private static byte[] setEntry(byte[] image, ByteOrder order, long table, int entries, Random random) {
            long at = table + 8L * random.nextInt(Math.max(1, entries));
            if (table < 0 || at < 0 || at > image.length - 8) {
                return cut(image, random);
            }
            long v = random.nextInt(3) == 0
                    ? ByteBuffer.wrap(image).order(order).getLong((int) at) ^ (1L << random.nextInt(64))
                    : value(random);
            ByteBuffer.wrap(image).order(order).putLong((int) at, v);
            return image;
        }

        private static byte[] flip(byte[] image, Random random) {
            int at = random.nextInt(image.length);
            image[at] ^= (byte) (1 << random.nextInt(8));
            return image;
        }

        private static byte[] cut(byte[] image, Random random) {
            return java.util.Arrays.copyOf(image, Math.max(1, random.nextInt(image.length)));
        }
    }
}
