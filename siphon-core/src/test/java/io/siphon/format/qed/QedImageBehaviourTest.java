package io.siphon.format.qed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.block.Allocation;
import io.siphon.block.BlockDevice;
import io.siphon.block.Extent;
import io.siphon.block.FastZeroUnsupportedException;
import io.siphon.block.RequestFlag;
import io.siphon.format.BackingReference;
import io.siphon.format.CreateOptions;
import io.siphon.format.Formats;
import io.siphon.format.Image;
import io.siphon.format.ImageChain;
import io.siphon.format.ImageFormatException;
import io.siphon.format.ImageFormatException.Reason;
import io.siphon.format.OpenOptions;
import io.siphon.testing.QemuTools;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** QED behaviour beyond the block device contract: zero clusters, backing, create options, probing. */
class QedImageBehaviourTest {
    private static final int CLUSTER = 65536;

    @TempDir
    Path dir;

    private Path create(String name, long size, Optional<BackingReference> backing, Map<String, String> options)
            throws IOException {
        Path path = dir.resolve(name);
        Formats.byName("qed").create(path, new CreateOptions(size, backing, options));
        return path;
    }

    private static Image open(Path path) throws IOException {
        return ImageChain.openOne(path, Optional.empty(), OpenOptions.READ_WRITE);
    }

    private static QemuTools.Result qemuCreate(Path path, String options, String size) throws Exception {
        return QemuTools.run("qemu-img", "create", "-q", "-f", "qed", "-o", options, path.toString(), size);
    }

    private static byte[] read(BlockDevice device, long offset, int length) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(length);
        device.read(offset, buffer);
        return buffer.array();
    }

    private static byte[] filled(int length, int value) {
        byte[] bytes = new byte[length];
        Arrays.fill(bytes, (byte) value);
        return bytes;
    }

    @Test
    void sizeIsRoundedUpToSectorsAndTheLastPartialClusterWorks() throws IOException {
        Path path = create("odd.qed", 1_000_000, Optional.empty(), Map.of());
        try (Image qed = open(path)) {
            assertEquals(1_000_448, qed.sizeBytes());
            qed.write(qed.sizeBytes() - 700, ByteBuffer.wrap(filled(700, 9)));
            qed.writeZeroes(qed.sizeBytes() - 300, 300, Set.of());
            byte[] expected = filled(700, 9);
            Arrays.fill(expected, 400, 700, (byte) 0);
            assertArrayEquals(expected, read(qed, qed.sizeBytes() - 700, 700));
        }
    }

    @Test
    void wholeClusterZeroesBecomeMarkersThatHideTheBacking() throws IOException {
        Path base = Files.write(dir.resolve("base.raw"), filled(1 << 20, 0x66));
        Path top = create(
                "top.qed",
                CreateOptions.SIZE_OF_BACKING,
                Optional.of(BackingReference.of("base.raw", "raw")),
                Map.of());
        try (ImageChain chain = ImageChain.open(top, Optional.empty(), OpenOptions.READ_WRITE)) {
            Image qed = chain.top();
            assertEquals(Files.size(base), qed.sizeBytes());
            long fileBefore = Files.size(top);
            qed.writeZeroes(CLUSTER, 2 * CLUSTER, Set.of(RequestFlag.NO_FALLBACK));
            List<Extent> status = qed.blockStatus(0, 4 * CLUSTER);
            assertEquals(
                    List.of(
                            new Extent(0, CLUSTER, Allocation.UNALLOCATED),
                            new Extent(CLUSTER, 2 * CLUSTER, Allocation.ZERO),
                            new Extent(3 * CLUSTER, CLUSTER, Allocation.UNALLOCATED)),
                    status);
            assertArrayEquals(new byte[2 * CLUSTER], read(qed, CLUSTER, 2 * CLUSTER));
            assertArrayEquals(filled(100, 0x66), read(qed, CLUSTER - 100, 100));
            // a marker costs no data cluster: the file grew by one L2 table only
            assertEquals(fileBefore + 4L * CLUSTER, Files.size(top));
            // a partial write into a zero cluster fills the rest with zeroes, not backing data
            qed.write(CLUSTER + 10, ByteBuffer.wrap(filled(10, 1)));
            byte[] expected = new byte[CLUSTER];
            Arrays.fill(expected, 10, 20, (byte) 1);
            assertArrayEquals(expected, read(qed, CLUSTER, CLUSTER));
            // a partial write into an unallocated cluster copies the backing around it
            qed.write(10, ByteBuffer.wrap(filled(10, 2)));
            expected = filled(CLUSTER, 0x66);
            Arrays.fill(expected, 10, 20, (byte) 2);
            assertArrayEquals(expected, read(qed, 0, CLUSTER));
        }
    }

    @Test
    void fastZeroesAreRefusedForPartialClustersAndDoneInPlaceForDataClusters() throws Exception {
        Path path = create("fast.qed", 1 << 20, Optional.empty(), Map.of());
        try (Image qed = open(path)) {
            qed.write(0, ByteBuffer.wrap(filled(2 * CLUSTER, 7)));
            assertThrows(
                    FastZeroUnsupportedException.class,
                    () -> qed.writeZeroes(CLUSTER + 1, CLUSTER, Set.of(RequestFlag.NO_FALLBACK)));
            assertArrayEquals(filled(2 * CLUSTER, 7), read(qed, 0, 2 * CLUSTER), "a refused fast zero changes nothing");
            // whole data clusters: zeroed in the file (this file system can), still allocated
            qed.writeZeroes(0, CLUSTER, Set.of(RequestFlag.NO_FALLBACK));
            assertArrayEquals(new byte[CLUSTER], read(qed, 0, CLUSTER));
            assertEquals(Allocation.DATA, qed.blockStatus(0, CLUSTER).getFirst().allocation());
            assertArrayEquals(filled(CLUSTER, 7), read(qed, CLUSTER, CLUSTER));
        }
        QemuTools.ok("qemu-img", "check", path.toString());
    }

    @Test
    void discardPunchesHolesUnderWholeDataClustersAndLeaksNothing() throws Exception {
        Path path = create("discard.qed", 4 << 20, Optional.empty(), Map.of());
        try (Image qed = open(path)) {
            qed.write(0, ByteBuffer.wrap(filled(4 << 20, 3)));
            qed.flush();
            long before = QemuTools.jsonLong(
                    QemuTools.ok("qemu-img", "info", "-U", "--output=json", path.toString()), "actual-size");
            qed.discard(100, (2 << 20) - 100);
            long after = QemuTools.jsonLong(
                    QemuTools.ok("qemu-img", "info", "-U", "--output=json", path.toString()), "actual-size");
            // 31 whole clusters discarded; the file system may keep a block or two of bookkeeping
            assertTrue(after <= before - 31L * CLUSTER + 16384, "space freed: " + before + " -> " + after);
            assertArrayEquals(filled(CLUSTER - 100, 3), read(qed, 100, CLUSTER - 100), "partial cluster kept");
            assertArrayEquals(new byte[CLUSTER], read(qed, CLUSTER, CLUSTER));
            assertArrayEquals(filled(100, 3), read(qed, 2 << 20, 100), "after the range");
        }
        String check = QemuTools.ok("qemu-img", "check", path.toString());
        assertTrue(check.contains("No errors"), check);
    }

    @Test
    void largestClustersWork() throws Exception {
        // 64 MiB clusters (one-cluster tables, to keep the heap small). QEMU 7.2 refuses them: its
        // maximum-size computation wraps around 2^64 to 0 for clusters this large.
        Path path = create("huge.qed", 1L << 30, Optional.empty(), Map.of("cluster_size", "64M", "table_size", "1"));
        QemuTools.Result qemu = qemuCreate(dir.resolve("theirs.qed"), "cluster_size=64M", "1G");
        assertTrue(qemu.stderr().contains("less than 0 bytes"), qemu.toString());
        try (Image qed = open(path)) {
            qed.write((64L << 20) - 3, ByteBuffer.wrap(filled(6, 1)));
            qed.write((1L << 30) - 512, ByteBuffer.wrap(filled(512, 2)));
        }
        try (Image qed = open(path)) {
            assertArrayEquals(new byte[] {0, 1, 1, 1, 1, 1, 1, 0}, read(qed, (64L << 20) - 4, 8));
            assertArrayEquals(filled(512, 2), read(qed, (1L << 30) - 512, 512));
            assertArrayEquals(new byte[4096], read(qed, 100L << 20, 4096));
            assertEquals(0, qed.check(io.siphon.format.RepairMode.NONE).exitStatus());
            // header, L1, the L2 table and three data clusters, each 64 MiB; sparse on disk
            assertEquals(6L * (64 << 20), Files.size(path));
        }
    }

    @Test
    void concurrentWritesIntoOneUnallocatedClusterAllLand() throws Exception {
        Path path = create("race.qed", 1 << 20, Optional.empty(), Map.of());
        try (Image qed = open(path)) {
            List<Future<?>> writes = new ArrayList<>();
            try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
                for (int i = 0; i < CLUSTER / 512; i++) {
                    int slot = i;
                    writes.add(pool.submit(() -> {
                        qed.write(slot * 512L, ByteBuffer.wrap(filled(512, slot + 1)));
                        return null;
                    }));
                }
                for (Future<?> write : writes) {
                    write.get();
                }
            }
            for (int i = 0; i < CLUSTER / 512; i++) {
                assertArrayEquals(filled(512, i + 1), read(qed, i * 512L, 512), "slot " + i);
            }
            assertEquals(1, qed.blockStatus(0, CLUSTER).size(), "one data cluster");
        }
        assertEquals(0, QemuTools.run("qemu-img", "check", path.toString()).exitCode());
    }

    @Test
    void unknownAutoclearBitsAreClearedByAWriterAndCompatBitsBlockNewBackingNames() throws IOException {
        Path path = create("bits.qed", 1 << 20, Optional.empty(), Map.of());
        try (FileChannel file = FileChannel.open(path, StandardOpenOption.WRITE)) {
            file.write(
                    ByteBuffer.allocate(8)
                            .order(ByteOrder.LITTLE_ENDIAN)
                            .putLong(0x4)
                            .flip(),
                    24);
            file.write(
                    ByteBuffer.allocate(8)
                            .order(ByteOrder.LITTLE_ENDIAN)
                            .putLong(0x8)
                            .flip(),
                    32);
        }
        try (Image qed = open(path)) {
            ImageFormatException e = assertThrows(
                    ImageFormatException.class,
                    () -> qed.changeBackingReference(Optional.of(BackingReference.of("x.raw", "raw"))));
            assertEquals("compat_features", e.field());
        }
        ByteBuffer header = ByteBuffer.wrap(Files.readAllBytes(path)).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(0x4, header.getLong(24), "compat bits are kept");
        assertEquals(0, header.getLong(32), "autoclear bits are cleared");
    }

    @Test
    void createRefusesBadOptionsNamingThem() throws IOException {
        record Bad(long size, Optional<BackingReference> backing, Map<String, String> options, String field) {}
        List<Bad> cases = List.of(
                new Bad(1 << 20, Optional.empty(), Map.of("cluster_size", "3000"), "cluster_size"),
                new Bad(1 << 20, Optional.empty(), Map.of("cluster_size", "128M"), "cluster_size"),
                new Bad(1 << 20, Optional.empty(), Map.of("cluster_size", "big"), "cluster_size"),
                new Bad(1 << 20, Optional.empty(), Map.of("table_size", "3"), "table_size"),
                new Bad(1 << 20, Optional.empty(), Map.of("table_size", "32"), "table_size"),
                new Bad(1 << 20, Optional.empty(), Map.of("lazy_refcounts", "on"), "lazy_refcounts"),
                new Bad(1L << 50, Optional.empty(), Map.of("cluster_size", "4k", "table_size", "1"), "size"),
                new Bad(CreateOptions.SIZE_OF_BACKING, Optional.empty(), Map.of(), "size"),
                new Bad(
                        1 << 20,
                        Optional.of(BackingReference.of("x".repeat(70_000), "raw")),
                        Map.of(),
                        "backing file"));
        for (Bad bad : cases) {
            Path path = dir.resolve("bad.qed");
            ImageFormatException e = assertThrows(
                    ImageFormatException.class,
                    () -> Formats.byName("qed")
                            .create(path, new CreateOptions(bad.size(), bad.backing(), bad.options())),
                    bad.toString());
            assertEquals(bad.field(), e.field(), e.getMessage());
            assertEquals(Reason.REFUSED, e.reason());
            assertTrue(Files.notExists(path), "nothing is left behind: " + bad);
        }
        Path existing = create("exists.qed", 1 << 20, Optional.empty(), Map.of());
        assertThrows(ImageFormatException.class, () -> Formats.byName("qed").create(existing, CreateOptions.ofSize(1)));
    }

    @Test
    void probingRecognisesQedAndCreateMatchesQemuImgByteForByte() throws Exception {
        Path ours = create("ours.qed", 10 << 20, Optional.empty(), Map.of("cluster_size", "4k", "table_size", "8"));
        assertEquals("qed", Formats.probe(ours).name());
        Path theirs = dir.resolve("theirs.qed");
        qemuCreate(theirs, "cluster_size=4k,table_size=8", "10M").requireSuccess();
        assertArrayEquals(Files.readAllBytes(theirs), Files.readAllBytes(ours));
        Path withBacking =
                create("backed.qed", 10 << 20, Optional.of(BackingReference.of("ours.qed", "qed")), Map.of());
        Path theirsBacked = dir.resolve("theirs-backed.qed");
        QemuTools.ok(
                "qemu-img", "create", "-q", "-f", "qed", "-b", "ours.qed", "-F", "qed", theirsBacked.toString(), "10M");
        assertArrayEquals(Files.readAllBytes(theirsBacked), Files.readAllBytes(withBacking));
        Files.write(dir.resolve("short.qed"), Arrays.copyOf(Files.readAllBytes(ours), 63));
        assertThrows(ImageFormatException.class, () -> Formats.probe(dir.resolve("short.qed")));
    }
}
