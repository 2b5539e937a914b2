package io.siphon.format.fuzz;

import io.siphon.format.Image;
import io.siphon.format.ImageChain;
import io.siphon.format.OpenOptions;
import io.siphon.format.RepairMode;
import io.siphon.testing.QemuTools;
import io.siphon.testing.fuzz.FuzzCampaign;
import io.siphon.testing.fuzz.Mutations;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
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
    private static final Duration TIMEOUT = Duration.ofSeconds(20);

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
        FuzzCampaign campaign = FuzzCampaign.start(format, format, 150, TIMEOUT);
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
        for (Path corpusCase : campaign.corpus(Path.of("src", "test", "resources", "fuzz-corpus"))) {
            run(
                    campaign,
                    format,
                    Files.readAllBytes(corpusCase),
                    corpusCase.getFileName().toString());
        }
        for (int i = 0; i < campaign.cases(); i++) {
            long caseSeed = campaign.seed(i);
            run(campaign, format, Mutator.mutate(format, seedBytes, new Random(caseSeed)), "seed " + caseSeed);
        }
        campaign.finish();
    }

    private void run(FuzzCampaign campaign, String format, byte[] bytes, String label) throws IOException {
        Path image = dir.resolve("case." + format);
        Files.write(image, bytes);
        campaign.run(label, bytes, () -> exercise(format, image));
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
                            Mutations.pick(
                                    random, 0, 4, 8, 16, 20, 24, 32, 36, 40, 48, 56, 60, 64, 72, 80, 88, 96, 100),
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
                            Mutations.pick(random, 0, 4, 8, 12, 16, 24, 32, 40, 48, 56, 60),
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

        private static byte[] setField(byte[] image, ByteOrder order, int offset, Random random) {
            ByteBuffer b = ByteBuffer.wrap(image).order(order);
            long v = Mutations.value(random);
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
                    : Mutations.value(random);
            ByteBuffer.wrap(image).order(order).putLong((int) at, v);
            return image;
        }

        private static byte[] flip(byte[] image, Random random) {
            return Mutations.flip(image, random);
        }

        private static byte[] cut(byte[] image, Random random) {
            return Mutations.cut(image, random);
        }
    }
}
