package io.siphon.format.qcow2;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.siphon.block.Allocation;
import io.siphon.block.Extent;
import io.siphon.format.Image;
import io.siphon.format.ImageChain;
import io.siphon.format.OpenOptions;
import io.siphon.testing.QemuTools;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Images that qemu-img and qemu-io make read byte-identical through Siphon to what {@code qemu-img
 * convert -O raw} gives, and Siphon's block status agrees with {@code qemu-img map}.
 */
@Tag("interop")
class QemuMadeImagesTest {
    private static final long SIZE = 4L << 20;

    @TempDir
    Path dir;

    static Stream<Arguments> matrix() {
        List<Arguments> all = new ArrayList<>();
        for (String clusterSize : List.of("512", "4k", "64k", "2M")) {
            all.add(Arguments.of(clusterSize, "0.10", "16", "off"));
            for (String refcountBits : List.of("1", "16", "64")) {
                all.add(Arguments.of(clusterSize, "1.1", refcountBits, "off"));
            }
            all.add(Arguments.of(clusterSize, "1.1", "16", "on"));
        }
        return all.stream();
    }

    @ParameterizedTest(name = "cluster_size={0} compat={1} refcount_bits={2} lazy_refcounts={3}")
    @MethodSource("matrix")
    void qemuWrittenImageReadsTheSame(String clusterSize, String compat, String refcountBits, String lazy)
            throws Exception {
        Path image = dir.resolve("img.qcow2");
        QemuTools.createQcow2(
                image,
                Long.toString(SIZE),
                "-o",
                "cluster_size=" + clusterSize + ",compat=" + compat + ",refcount_bits=" + refcountBits
                        + ",lazy_refcounts=" + lazy);
        QemuTools.ok(
                "qemu-io",
                "-f",
                "qcow2",
                "-c",
                "write -P 0x11 0 100k",
                "-c",
                "write -P 0x22 1M 64k",
                "-c",
                "write -P 0x33 1100k 1M",
                "-c",
                "write -z 300k 200k",
                "-c",
                "write -z 1200k 300k",
                "-c",
                "discard 1536k 128k",
                "-c",
                "write -P 0x44 3583k 1k",
                image.toString());
        assertReadsLikeQemu(image);
        assertSiphonWritesAreSeenByQemu(image, compat.equals("1.1"));
        assertMapsLikeQemu(image);
    }

    @ParameterizedTest(name = "compressed, cluster_size={0}, {1}")
    @MethodSource("compressedMatrix")
    void compressedImageReadsTheSame(String clusterSize, String compression) throws Exception {
        Path source = dir.resolve("source.raw");
        byte[] content = new byte[(int) SIZE];
        long seed = System.nanoTime();
        System.out.println("seed " + seed);
        Random random = new Random(seed);
        for (int at = 0; at < content.length; at += 64 << 10) {
            int kind = random.nextInt(3);
            int length = Math.min(64 << 10, content.length - at);
            if (kind == 0) {
                byte[] noise = new byte[length];
                random.nextBytes(noise);
                System.arraycopy(noise, 0, content, at, length);
            } else if (kind == 1) {
                for (int i = 0; i < length; i++) {
                    content[at + i] = (byte) ("siphon ".charAt(i % 7));
                }
            }
        }
        Files.write(source, content);
        Path image = dir.resolve("compressed.qcow2");
        QemuTools.ok(
                "qemu-img",
                "convert",
                "-c",
                "-f",
                "raw",
                "-O",
                "qcow2",
                "-o",
                "cluster_size=" + clusterSize + ",compression_type=" + compression,
                source.toString(),
                image.toString());
        assertReadsLikeQemu(image);
        assertMapsLikeQemu(image);
        try (Image opened = ImageChain.openOne(image, Optional.empty(), OpenOptions.READ_ONLY)) {
            assertArrayEquals(content, readAll(opened));
        }
        assertSiphonWritesAreSeenByQemu(image, true);
    }

    static Stream<Arguments> compressedMatrix() {
        return Stream.of(
                Arguments.of("512", "zlib"),
                Arguments.of("4k", "zlib"),
                Arguments.of("64k", "zlib"),
                Arguments.of("2M", "zlib"),
                Arguments.of("64k", "zstd"));
    }

    static Stream<Arguments> chains() {
        List<Arguments> all = new ArrayList<>();
        for (int depth = 1; depth <= 4; depth++) {
            all.add(Arguments.of(depth, "raw"));
            all.add(Arguments.of(depth, "qcow2"));
        }
        return all.stream();
    }

    @ParameterizedTest(name = "chain of {0} over a {1} base")
    @MethodSource("chains")
    void qemuMadeChainReadsTheSame(int depth, String baseFormat) throws Exception {
        Path base = dir.resolve("base." + baseFormat);
        QemuTools.ok("qemu-img", "create", "-q", "-f", baseFormat, base.toString(), Long.toString(SIZE - (1 << 20)));
        QemuTools.ok("qemu-io", "-f", baseFormat, "-c", "write -P 0xa0 0 3M", base.toString());
        Path below = base;
        String belowFormat = baseFormat;
        for (int layer = 1; layer <= depth; layer++) {
            Path image = dir.resolve("layer" + layer + ".qcow2");
            QemuTools.createQcow2(
                    image,
                    Long.toString(SIZE),
                    "-o",
                    "cluster_size=" + (layer % 2 == 0 ? "4k" : "64k") + ",compat=" + (layer == 2 ? "0.10" : "1.1"),
                    "-b",
                    below.getFileName().toString(),
                    "-F",
                    belowFormat);
            String pattern = "0x" + Integer.toHexString(0xb0 + layer);
            long offset = layer * 300_000L;
            QemuTools.ok(
                    "qemu-io",
                    "-f",
                    "qcow2",
                    "-c",
                    "write -P " + pattern + " " + offset + " 70000",
                    "-c",
                    "write -z " + (offset + 800_000) + " 100000",
                    image.toString());
            below = image;
            belowFormat = "qcow2";
        }
        assertReadsLikeQemu(below);
        assertSiphonWritesAreSeenByQemu(below, depth != 2); // layer 2 is compat 0.10
    }

    @Test
    void zeroClustersFromQemuIoReadAsZeroes() throws Exception {
        Path image = dir.resolve("zero.qcow2");
        Path base = dir.resolve("zero-base.qcow2");
        QemuTools.ok("qemu-img", "create", "-q", "-f", "qcow2", base.toString(), Long.toString(SIZE));
        QemuTools.ok("qemu-io", "-f", "qcow2", "-c", "write -P 0x5a 0 4M", base.toString());
        QemuTools.ok(
                "qemu-img", "create", "-q", "-f", "qcow2", "-b", "zero-base.qcow2", "-F", "qcow2", image.toString());
        QemuTools.ok("qemu-io", "-f", "qcow2", "-c", "write -z 64k 192k", "-c", "write -z -u 1M 1M", image.toString());
        assertReadsLikeQemu(image);
        try (ImageChain chain = ImageChain.open(image, Optional.empty(), OpenOptions.READ_ONLY)) {
            List<Extent> extents = chain.top().blockStatus(64 << 10, 192 << 10);
            assertEquals(Allocation.ZERO, extents.getFirst().allocation(), extents.toString());
        }
    }

    /** Reads the whole chain through Siphon and compares it with qemu-img convert's raw output. */
    private void assertReadsLikeQemu(Path image) throws Exception {
        Path raw = dir.resolve("expected-" + image.getFileName() + ".raw");
        QemuTools.ok("qemu-img", "convert", "-U", "-O", "raw", image.toString(), raw.toString());
        byte[] expected = Files.readAllBytes(raw);
        try (ImageChain chain = ImageChain.open(image, Optional.empty(), OpenOptions.READ_ONLY)) {
            byte[] actual = readAll(chain.top());
            assertEquals(expected.length, actual.length, "virtual size");
            for (int i = 0; i < expected.length; i++) {
                if (expected[i] != actual[i]) {
                    throw new AssertionError(image + ": first difference at byte " + i + ": qemu " + expected[i]
                            + ", siphon " + actual[i]);
                }
            }
        }
    }

    /**
     * Runs Siphon's random workload on the image qemu made (its chain attached), then qemu-img check
     * and compare must agree with what the writes left.
     */
    private void assertSiphonWritesAreSeenByQemu(Path image, boolean v3) throws Exception {
        long seed = System.nanoTime();
        System.out.println("seed " + seed + " writing into " + image);
        byte[] expected;
        try (ImageChain chain = ImageChain.open(image, Optional.empty(), OpenOptions.READ_WRITE)) {
            Image top = chain.top();
            expected = readAll(top);
            byte[] below = new byte[expected.length];
            if (top.backing().isPresent()) {
                var backing = top.backing().get();
                backing.read(0, ByteBuffer.wrap(below, 0, (int) Math.min(below.length, backing.sizeBytes())));
            }
            SiphonMadeImagesTest.workload(top, expected, below, new Random(seed), v3);
        }
        SiphonMadeImagesTest.assertQemuAgrees(image, expected);
    }

    static byte[] readAll(Image image) throws IOException {
        ByteBuffer all = ByteBuffer.allocate((int) image.sizeBytes());
        // odd-sized reads cross cluster boundaries in every way
        int step = 777_777;
        while (all.hasRemaining()) {
            int n = Math.min(step, all.remaining());
            image.read(all.position(), all.slice(all.position(), n));
            all.position(all.position() + n);
        }
        return all.array();
    }

    private static final Pattern MAP_ENTRY = Pattern.compile(
            "\"start\": (\\d+), \"length\": (\\d+), \"depth\": (\\d+), \"present\": (\\w+), \"zero\": (\\w+),"
                    + " \"data\": (\\w+)(?:, \"offset\": (\\d+))?");

    /** Siphon's block status of a single image, as qemu-img map's (data, zero, offset) ranges. */
    static void assertMapsLikeQemu(Path image) throws Exception {
        // this image alone: with its backing link cut, unallocated ranges read as zeroes
        String alone = "json:{\"driver\":\"qcow2\",\"file\":{\"driver\":\"file\",\"filename\":\""
                + image.toString().replace("\\", "\\\\").replace("\"", "\\\"") + "\"},\"backing\":null}";
        String json = QemuTools.ok("qemu-img", "map", "-U", "--output=json", alone);
        List<String> expected = new ArrayList<>();
        Matcher m = MAP_ENTRY.matcher(json);
        while (m.find()) {
            addRange(
                    expected,
                    Long.parseLong(m.group(1)),
                    Long.parseLong(m.group(2)),
                    Boolean.parseBoolean(m.group(6)),
                    Boolean.parseBoolean(m.group(5)),
                    m.group(7) == null ? -1 : Long.parseLong(m.group(7)));
        }
        List<String> actual = new ArrayList<>();
        try (Image opened = ImageChain.openOne(image, Optional.of("qcow2"), OpenOptions.FORCE_SHARE)) {
            long at = 0;
            while (at < opened.sizeBytes()) {
                for (Extent e : opened.blockStatus(at, opened.sizeBytes() - at)) {
                    boolean data = e.allocation() == Allocation.DATA;
                    addRange(actual, e.offsetBytes(), e.lengthBytes(), data, !data, e.hostOffsetBytes());
                    at = e.endBytes();
                }
            }
        }
        assertEquals(String.join("\n", expected), String.join("\n", actual), image + " map");
    }

    /** Appends a range, merging with the previous one when flags match and offsets continue. */
    private static void addRange(
            List<String> ranges, long start, long length, boolean data, boolean zero, long offset) {
        long hostOffset = data ? offset : -1;
        if (!ranges.isEmpty()) {
            String[] last = ranges.getLast().split(" ");
            long lastStart = Long.parseLong(last[0]);
            long lastLength = Long.parseLong(last[1]);
            long lastOffset = Long.parseLong(last[4]);
            boolean sameFlags = last[2].equals(Boolean.toString(data)) && last[3].equals(Boolean.toString(zero));
            boolean contiguous = lastOffset == -1 ? hostOffset == -1 : hostOffset == lastOffset + lastLength;
            if (sameFlags && contiguous && lastStart + lastLength == start) {
                ranges.set(
                        ranges.size() - 1,
                        lastStart + " " + (lastLength + length) + " " + data + " " + zero + " " + lastOffset);
                return;
            }
        }
        ranges.add(start + " " + length + " " + data + " " + zero + " " + hostOffset);
    }
}
