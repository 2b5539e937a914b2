package io.siphon.format.qcow2;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.block.Allocation;
import io.siphon.block.Extent;
import io.siphon.format.BackingReference;
import io.siphon.format.CreateOptions;
import io.siphon.format.Formats;
import io.siphon.format.Image;
import io.siphon.format.ImageChain;
import io.siphon.format.ImageFormatException;
import io.siphon.format.ImageFormatException.Reason;
import io.siphon.format.OpenOptions;
import io.siphon.testing.QemuTools;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * qcow2 with extended L2 entries (subclusters): images Siphon writes pass qemu-img check and
 * compare, images qemu-io writes read the same through Siphon, allocation follows subclusters
 * (copy-on-write to subcluster boundaries only, bits set in place), and bad bitmaps are typed errors.
 */
@Tag("interop")
class ExtendedL2Test {
    private static final long SIZE = 4L << 20;
    private static final int CLUSTER = 64 << 10;
    private static final int SUBCLUSTER = CLUSTER / 32;
    private static final long L2_OFFSET_MASK = 0x00fffffffffffe00L;

    @TempDir
    Path dir;

    /** A raw base of pattern 0x5a and an extended-L2 qcow2 clone of it made by Siphon. */
    private Path siphonClone(String name, Map<String, String> options) throws Exception {
        Path base = dir.resolve("base.raw");
        if (!Files.exists(base)) {
            byte[] pattern = new byte[(int) SIZE];
            Arrays.fill(pattern, (byte) 0x5a);
            Files.write(base, pattern);
        }
        Path clone = dir.resolve(name);
        Formats.byName("qcow2")
                .create(
                        clone,
                        new CreateOptions(
                                CreateOptions.SIZE_OF_BACKING,
                                Optional.of(BackingReference.of("base.raw", "raw")),
                                options));
        return clone;
    }

    @ParameterizedTest(name = "cluster_size={0}")
    @CsvSource({"16k", "64k", "2M"})
    void randomWorkloadOverABackingMatchesExpectedContent(String clusterSize) throws Exception {
        Path clone = siphonClone("clone.qcow2", Map.of("extended_l2", "on", "cluster_size", clusterSize));
        long seed = System.nanoTime();
        System.out.println("seed " + seed + " for cluster_size " + clusterSize);
        byte[] expected;
        try (ImageChain chain = ImageChain.open(clone, Optional.empty(), OpenOptions.READ_WRITE)) {
            expected = QemuMadeImagesTest.readAll(chain.top());
            SiphonMadeImagesTest.workload(chain.top(), expected, expected.clone(), new Random(seed), true);
        }
        SiphonMadeImagesTest.assertQemuAgrees(clone, expected);
        String info = QemuTools.infoJson(clone);
        assertTrue(info.contains("\"extended-l2\": true"), info);
    }

    @Test
    void standaloneRandomWorkloadMatchesExpectedContent() throws Exception {
        Path image = dir.resolve("alone.qcow2");
        Formats.byName("qcow2").create(image, new CreateOptions(SIZE, Optional.empty(), Map.of("extended_l2", "on")));
        long seed = System.nanoTime();
        System.out.println("seed " + seed);
        byte[] expected = new byte[(int) SIZE];
        try (Image opened = ImageChain.openOne(image, Optional.empty(), OpenOptions.READ_WRITE)) {
            SiphonMadeImagesTest.workload(opened, expected, new byte[(int) SIZE], new Random(seed), true);
        }
        SiphonMadeImagesTest.assertQemuAgrees(image, expected);
    }

    /** The point of subclusters: a small write into a clone copies from the backing only to subcluster boundaries. */
    @Test
    void partialWriteCopiesOnlyToSubclusterBoundaries() throws Exception {
        Path clone = siphonClone("cow.qcow2", Map.of("extended_l2", "on"));
        long cluster = CLUSTER; // guest cluster 1
        try (ImageChain chain = ImageChain.open(clone, Optional.empty(), OpenOptions.READ_WRITE)) {
            Image top = chain.top();
            top.write(cluster + 3 * SUBCLUSTER + 100, ByteBuffer.wrap(filled(SUBCLUSTER, 0x11)));
            top.flush();
            assertEquals(0b11000L, slot(clone, 1)[1], "subclusters 3 and 4 allocated, the rest not");
            long host = slot(clone, 1)[0] & L2_OFFSET_MASK;
            // the host cluster holds the backing's bytes only from the start of subcluster 3
            ByteBuffer stored = ByteBuffer.allocate(CLUSTER);
            try (FileChannel file = FileChannel.open(clone)) {
                file.read(stored, host);
            }
            assertEquals(0, stored.get(3 * SUBCLUSTER - 1), "subcluster 2 was not copied");
            assertEquals(0x5a, stored.get(3 * SUBCLUSTER + 99));
            assertEquals(0x5a, stored.get(5 * SUBCLUSTER - 1), "subcluster 4 was copied to its end");
            assertEquals(0, stored.get(5 * SUBCLUSTER), "subcluster 5 was not copied");
            List<Extent> extents = top.blockStatus(cluster, CLUSTER);
            assertEquals(
                    List.of(
                            new Extent(cluster, 3 * SUBCLUSTER, Allocation.UNALLOCATED, host),
                            new Extent(
                                    cluster + 3 * SUBCLUSTER, 2 * SUBCLUSTER, Allocation.DATA, host + 3 * SUBCLUSTER),
                            new Extent(
                                    cluster + 5 * SUBCLUSTER,
                                    27 * SUBCLUSTER,
                                    Allocation.UNALLOCATED,
                                    host + 5 * SUBCLUSTER)),
                    extents);

            // a write into an unallocated subcluster of that cluster fills it where it lies
            top.write(cluster + 20 * SUBCLUSTER, ByteBuffer.wrap(filled(10, 0x22)));
            top.flush();
            assertEquals(host, slot(clone, 1)[0] & L2_OFFSET_MASK, "no data moved");
            assertEquals(0b11000L | 1L << 20, slot(clone, 1)[1]);

            // whole subclusters zeroed by their bits; a partial one by writing zeroes
            top.writeZeroes(cluster + 8 * SUBCLUSTER, 2 * SUBCLUSTER + 7, Set.of());
            top.flush();
            long bitmap = slot(clone, 1)[1];
            assertEquals(0b11L << 40, bitmap & (0b111L << 40), "subclusters 8 and 9 read as zeroes");
            assertEquals(1L << 10, bitmap & (1L << 10), "subcluster 10 holds written zeroes");
        }
        QemuTools.assertCheckClean(clone);
        byte[] expected = filled((int) SIZE, 0x5a);
        Arrays.fill(expected, (int) cluster + 3 * SUBCLUSTER + 100, (int) cluster + 4 * SUBCLUSTER + 100, (byte) 0x11);
        Arrays.fill(expected, (int) cluster + 20 * SUBCLUSTER, (int) cluster + 20 * SUBCLUSTER + 10, (byte) 0x22);
        Arrays.fill(expected, (int) cluster + 8 * SUBCLUSTER, (int) cluster + 10 * SUBCLUSTER + 7, (byte) 0);
        SiphonMadeImagesTest.assertQemuAgrees(clone, expected);
    }

    /** Images qemu-io wrote with partial subclusters, write -z and discard read the same through Siphon. */
    @Test
    void qemuWrittenImageReadsTheSameAndTakesSiphonWrites() throws Exception {
        Path base = dir.resolve("qbase.qcow2");
        Path clone = dir.resolve("qclone.qcow2");
        QemuTools.createQcow2(base, Long.toString(SIZE));
        QemuTools.io(base, "qcow2", List.of("write -P 0x33 0 4M"));
        QemuTools.createQcow2(clone, Long.toString(SIZE), "-o", "extended_l2=on", "-b", "qbase.qcow2", "-F", "qcow2");
        QemuTools.io(
                clone,
                "qcow2",
                List.of(
                        "write -P 0x44 5000 3000",
                        "write -P 0x45 70000 2048",
                        "write -z 131072 4096",
                        "write -z 140000 100",
                        "write -z -u 262144 65536",
                        "discard 393216 65536",
                        "write -P 0x46 1048000 200000",
                        "write -c -P 0x47 2097152 65536"));
        Path raw = dir.resolve("qclone.raw");
        QemuTools.ok("qemu-img", "convert", "-O", "raw", clone.toString(), raw.toString());
        byte[] expected = Files.readAllBytes(raw);
        try (ImageChain chain = ImageChain.open(clone, Optional.empty(), OpenOptions.READ_WRITE)) {
            assertArrayEquals(expected, QemuMadeImagesTest.readAll(chain.top()));
            long seed = System.nanoTime();
            System.out.println("seed " + seed);
            byte[] below = new byte[(int) SIZE];
            chain.top().backing().orElseThrow().read(0, ByteBuffer.wrap(below));
            SiphonMadeImagesTest.workload(chain.top(), expected, below, new Random(seed), true);
        }
        SiphonMadeImagesTest.assertQemuAgrees(clone, expected);
    }

    @Test
    void qemuWrittenSubclustersMapAsQemuMapsThem() throws Exception {
        Path image = dir.resolve("map.qcow2");
        QemuTools.createQcow2(image, Long.toString(SIZE), "-o", "extended_l2=on");
        QemuTools.io(
                image,
                "qcow2",
                List.of(
                        "write -P 1 4096 2048",
                        "write -P 2 65536 65536",
                        "write -z 200000 20000",
                        "write -P 3 70000 1"));
        QemuMadeImagesTest.assertMapsLikeQemu(image);
    }

    @Test
    void hostileBitmapsAreTypedErrorsNamingTheEntry() throws Exception {
        Path made = dir.resolve("made.qcow2");
        QemuTools.createQcow2(made, "1M", "-o", "extended_l2=on");
        QemuTools.io(made, "qcow2", List.of("write -P 1 0 64k", "write -c -P 2 64k 64k"));
        long[][] damage = {
            {0, 0x100000001L}, // subcluster 0 allocated and zero
            {1, 1}, // a compressed cluster with a bitmap
            {3, 1}, // an allocated subcluster in a cluster without a host offset
        };
        for (long[] d : damage) {
            Path image = dir.resolve("hostile-" + d[0] + ".qcow2");
            Files.copy(made, image);
            long l2 = l2Table(image);
            try (FileChannel file = FileChannel.open(image, StandardOpenOption.WRITE)) {
                file.write(ByteBuffer.allocate(8).putLong(0, d[1]), l2 + d[0] * 16 + 8);
            }
            try (Image opened = ImageChain.openOne(image, Optional.empty(), OpenOptions.READ_ONLY)) {
                ImageFormatException e = assertThrows(
                        ImageFormatException.class, () -> opened.read(d[0] * CLUSTER, ByteBuffer.allocate(512)));
                assertEquals(Reason.MALFORMED, e.reason(), e.getMessage());
                assertEquals("L2 entry " + d[0] + " of the table at " + l2, e.field(), e.getMessage());
            }
            QemuTools.Result check = QemuTools.run("qemu-img", "check", image.toString());
            assertEquals(2, check.exitCode(), check.stdout() + check.stderr());
            try (Image opened = ImageChain.openForCheck(image, Optional.empty(), OpenOptions.READ_ONLY)) {
                var report = opened.check(io.siphon.format.RepairMode.NONE);
                assertEquals(1, report.corruptions(), report.toString());
            }
        }
    }

    @Test
    void compressedWritesLeaveTheBitmapZero() throws Exception {
        Path image = dir.resolve("compressed.qcow2");
        Formats.byName("qcow2").create(image, new CreateOptions(SIZE, Optional.empty(), Map.of("extended_l2", "on")));
        byte[] data = filled(2 * CLUSTER, 0x61);
        try (Image opened = ImageChain.openOne(image, Optional.empty(), OpenOptions.READ_WRITE)) {
            opened.writeZeroes(0, SUBCLUSTER, Set.of()); // a zero bit the compressed write must drop
            opened.writeCompressed(0, ByteBuffer.wrap(data));
        }
        assertEquals(0, slot(image, 0)[1]);
        assertEquals(0, slot(image, 1)[1]);
        byte[] expected = new byte[(int) SIZE];
        System.arraycopy(data, 0, expected, 0, data.length);
        SiphonMadeImagesTest.assertQemuAgrees(image, expected);
        String check = QemuTools.ok("qemu-img", "check", "--output=json", image.toString());
        assertEquals(2, QemuTools.jsonLong(check, "compressed-clusters"), check);
    }

    private static byte[] filled(int length, int value) {
        byte[] bytes = new byte[length];
        Arrays.fill(bytes, (byte) value);
        return bytes;
    }

    /** The first L2 table's offset (guest clusters 0 to 4095 at 64 KiB). */
    private static long l2Table(Path image) throws Exception {
        try (FileChannel file = FileChannel.open(image)) {
            ByteBuffer l1 = ByteBuffer.allocate(8);
            ByteBuffer header = ByteBuffer.allocate(8);
            file.read(header, 40);
            file.read(l1, header.getLong(0));
            return l1.getLong(0) & L2_OFFSET_MASK;
        }
    }

    /** Guest cluster {@code index}'s L2 entry and bitmap, as stored. */
    private static long[] slot(Path image, int index) throws Exception {
        long l2 = l2Table(image);
        try (FileChannel file = FileChannel.open(image)) {
            ByteBuffer entry = ByteBuffer.allocate(16);
            file.read(entry, l2 + index * 16L);
            return new long[] {entry.getLong(0), entry.getLong(8)};
        }
    }
}
