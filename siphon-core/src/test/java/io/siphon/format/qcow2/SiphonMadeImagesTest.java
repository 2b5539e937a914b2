package io.siphon.format.qcow2;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.siphon.block.RequestFlag;
import io.siphon.format.BackingReference;
import io.siphon.format.CreateOptions;
import io.siphon.format.Formats;
import io.siphon.format.Image;
import io.siphon.format.ImageChain;
import io.siphon.format.OpenOptions;
import io.siphon.testing.QemuTools;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Images Siphon creates and writes (random writes, zero writes, discards, chains with relative
 * backing names) pass qemu-img check and equal, under qemu-img compare, a raw file holding the bytes
 * the writes should have left.
 */
@Tag("interop")
class SiphonMadeImagesTest {
    private static final long SIZE = 3L << 20;
    private static final int OPERATIONS = Integer.getInteger("siphon.qcow2.operations", 150);

    @TempDir
    Path dir;

    static Stream<Arguments> variants() {
        List<Arguments> all = new ArrayList<>();
        for (String clusterSize : List.of("512", "4k", "64k", "2M")) {
            for (String compat : List.of("0.10", "1.1")) {
                all.add(Arguments.of(
                        clusterSize, compat, compat.equals("1.1") && clusterSize.equals("4k") ? "1" : "16"));
            }
        }
        all.add(Arguments.of("64k", "1.1", "64"));
        return all.stream();
    }

    @ParameterizedTest(name = "cluster_size={0} compat={1} refcount_bits={2}")
    @MethodSource("variants")
    void randomWorkloadMatchesExpectedContent(String clusterSize, String compat, String refcountBits) throws Exception {
        Map<String, String> options =
                Map.of("cluster_size", clusterSize, "compat", compat, "refcount_bits", refcountBits);
        Path image = dir.resolve("img.qcow2");
        Formats.byName("qcow2").create(image, new CreateOptions(SIZE, Optional.empty(), options));
        byte[] expected = new byte[(int) SIZE];
        long seed = System.nanoTime();
        System.out.println("seed " + seed + " for " + options);
        try (Image opened = ImageChain.openOne(image, Optional.of("qcow2"), OpenOptions.READ_WRITE)) {
            workload(opened, expected, new byte[(int) SIZE], new Random(seed), compat.equals("1.1"));
        }
        assertQemuAgrees(image, expected);
    }

    @Test
    void chainOfThreeWithRelativeNames() throws Exception {
        long seed = System.nanoTime();
        System.out.println("seed " + seed);
        Random random = new Random(seed);
        Files.createDirectories(dir.resolve("base"));
        Files.createDirectories(dir.resolve("mid"));
        Path base = dir.resolve("base/base.qcow2");
        Path mid = dir.resolve("mid/mid.qcow2");
        Path top = dir.resolve("top.qcow2");
        Map<String, String> v3 = Map.of("cluster_size", "4k");
        Formats.byName("qcow2").create(base, new CreateOptions(SIZE, Optional.empty(), Map.of()));
        Formats.byName("qcow2")
                .create(
                        mid,
                        new CreateOptions(
                                CreateOptions.SIZE_OF_BACKING,
                                Optional.of(BackingReference.of("../base/base.qcow2", "qcow2")),
                                Map.of("compat", "0.10", "cluster_size", "512")));
        Formats.byName("qcow2")
                .create(
                        top,
                        new CreateOptions(
                                CreateOptions.SIZE_OF_BACKING,
                                Optional.of(BackingReference.of("mid/mid.qcow2", "qcow2")),
                                v3));
        byte[] expected = new byte[(int) SIZE];
        byte[] below = new byte[(int) SIZE];
        try (ImageChain chain = ImageChain.open(base, Optional.empty(), OpenOptions.READ_WRITE)) {
            workload(chain.top(), expected, below, random, true);
        }
        below = expected.clone();
        try (ImageChain chain = ImageChain.open(mid, Optional.empty(), OpenOptions.READ_WRITE)) {
            assertEquals(2, chain.images().size(), "mid sits on base");
            workload(chain.top(), expected, below, random, false);
        }
        below = expected.clone();
        try (ImageChain chain = ImageChain.open(top, Optional.empty(), OpenOptions.READ_WRITE)) {
            assertEquals(3, chain.images().size());
            workload(chain.top(), expected, below, random, true);
            assertArrayEquals(expected, QemuMadeImagesTest.readAll(chain.top()));
        }
        QemuTools.assertCheckClean(base);
        QemuTools.assertCheckClean(mid);
        assertQemuAgrees(top, expected);
        String info = QemuTools.ok("qemu-img", "info", "--backing-chain", top.toString());
        assertEquals(3, info.split("image: ").length - 1, info);
    }

    /**
     * Random writes, zero writes and discards, applied to the image and to {@code expected}. {@code
     * below} is what the backing chain reads (for v2 discards, which let it show through again).
     */
    static void workload(Image image, byte[] expected, byte[] below, Random random, boolean v3) throws Exception {
        int clusterSize = image.info().clusterSizeBytes().orElseThrow();
        // what a discard drops: whole clusters, or whole subclusters with extended L2 entries
        int discardUnit =
                Boolean.TRUE.equals(image.info().formatSpecific().get("extended-l2")) ? clusterSize / 32 : clusterSize;
        long size = image.sizeBytes();
        for (int op = 0; op < OPERATIONS; op++) {
            long offset = random.nextLong(size);
            int length = (int) Math.min(size - offset, 1 + random.nextInt(Math.max(3 * clusterSize, 200_000)));
            switch (random.nextInt(6)) {
                case 0, 1, 2 -> {
                    byte[] data = new byte[length];
                    random.nextBytes(data);
                    image.write(offset, ByteBuffer.wrap(data));
                    System.arraycopy(data, 0, expected, (int) offset, length);
                }
                case 3 -> {
                    Set<RequestFlag> flags = random.nextBoolean() ? Set.of(RequestFlag.MAY_UNMAP) : Set.of();
                    image.writeZeroes(offset, length, flags);
                    Arrays.fill(expected, (int) offset, (int) offset + length, (byte) 0);
                }
                case 4 -> {
                    image.discard(offset, length);
                    long start = (offset + discardUnit - 1) / discardUnit * discardUnit;
                    long end = offset + length == size ? size : (offset + length) / discardUnit * discardUnit;
                    for (long at = start; at < end; at++) {
                        expected[(int) at] = v3 ? 0 : below[(int) at];
                    }
                }
                default -> image.flush();
            }
            if (op % 50 == 49) {
                byte[] actual = new byte[(int) size];
                image.read(0, ByteBuffer.wrap(actual));
                assertArrayEquals(expected, actual, "after operation " + op);
            }
        }
    }

    static void assertQemuAgrees(Path image, byte[] expected) throws Exception {
        QemuTools.assertCheckClean(image);
        Path raw = image.resolveSibling(image.getFileName() + ".expected.raw");
        Files.write(raw, expected);
        QemuTools.Result compare = QemuTools.run(
                "qemu-img", "compare", "-U", "-f", "raw", "-F", "qcow2", raw.toString(), image.toString());
        assertEquals(0, compare.exitCode(), "qemu-img compare: " + compare.stdout() + compare.stderr());
    }
}
