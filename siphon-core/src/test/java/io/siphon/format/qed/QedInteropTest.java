package io.siphon.format.qed;

import static io.siphon.testing.QemuTools.ok;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.block.Allocation;
import io.siphon.block.Extent;
import io.siphon.format.BackingReference;
import io.siphon.format.CheckReport;
import io.siphon.format.CreateOptions;
import io.siphon.format.Formats;
import io.siphon.format.Image;
import io.siphon.format.ImageChain;
import io.siphon.format.ImageInfo;
import io.siphon.format.OpenOptions;
import io.siphon.format.RepairMode;
import io.siphon.testing.QemuTools;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Siphon and qemu-img 7.2 read, write, check, compare, map and convert each other's QED images. */
class QedInteropTest {
    private static final long SIZE = 8L << 20;

    @TempDir
    Path dir;

    private static Image open(Path path) throws IOException {
        return ImageChain.openOne(path, Optional.of("qed"), OpenOptions.READ_WRITE);
    }

    private static void create(Path path, long size, long clusterSize) throws IOException {
        Formats.byName("qed")
                .create(
                        path,
                        new CreateOptions(size, Optional.empty(), Map.of("cluster_size", Long.toString(clusterSize))));
    }

    @ParameterizedTest
    @ValueSource(longs = {4096, 65536, 1 << 20})
    void qemuReadsWhatSiphonWrites(long clusterSize) throws Exception {
        long seed = GuestWorkload.newSeed("qemuReadsWhatSiphonWrites cluster " + clusterSize);
        Path image = dir.resolve("siphon.qed");
        create(image, SIZE, clusterSize);
        GuestWorkload workload = new GuestWorkload(new byte[(int) SIZE], seed, clusterSize);
        List<Extent> extents;
        ImageInfo ours;
        try (Image qed = open(image)) {
            workload.run(qed, 200);
            extents = allExtents(qed);
            qed.flush();
            ours = qed.info();
        }
        Path model = workload.writeRaw(dir.resolve("model.raw"));

        String check = ok("qemu-img", "check", "-f", "qed", image.toString());
        assertTrue(check.contains("No errors were found on the image."), check);
        String info = ok("qemu-img", "info", "--output=json", "-f", "qed", image.toString());
        assertEquals(SIZE, QemuTools.jsonLong(info, "virtual-size"), info);
        assertEquals(clusterSize, QemuTools.jsonLong(info, "cluster-size"), info);
        assertFalse(QemuTools.jsonBool(info, "dirty-flag"), info);
        assertEquals(
                QemuTools.jsonLong(info, "actual-size"), ours.actualSizeBytes().getAsLong(), info);
        assertEquals(Optional.empty(), ours.backing());
        ok("qemu-img", "compare", "-f", "raw", "-F", "qed", model.toString(), image.toString());
        Path converted = dir.resolve("converted.raw");
        ok("qemu-img", "convert", "-f", "qed", "-O", "raw", image.toString(), converted.toString());
        assertArrayEquals(workload.model(), Files.readAllBytes(converted));
        String map = ok("qemu-img", "map", "--output=json", "-f", "qed", image.toString());
        assertEquals(fromQemuMap(map), normalize(extents), map);
    }

    @ParameterizedTest
    @ValueSource(longs = {4096, 65536, 1 << 20})
    void siphonReadsAndExtendsWhatQemuWrites(long clusterSize) throws Exception {
        long seed = GuestWorkload.newSeed("siphonReadsAndExtendsWhatQemuWrites cluster " + clusterSize);
        Path image = dir.resolve("qemu.qed");
        ok("qemu-img", "create", "-q", "-f", "qed", "-o", "cluster_size=" + clusterSize, image.toString(), "" + SIZE);
        ok(
                "qemu-io",
                "-f",
                "qed",
                "-c",
                "write -P 0x5a 0 100000",
                "-c",
                "write -P 0x33 3000000 " + 3 * clusterSize,
                "-c",
                "write -z " + 4 * clusterSize + " " + 2 * clusterSize,
                "-c",
                "write -P 0x7e " + (SIZE - 4096) + " 4096",
                image.toString());
        Path expected = dir.resolve("expected.raw");
        ok("qemu-img", "convert", "-f", "qed", "-O", "raw", image.toString(), expected.toString());
        byte[] qemuWrote = Files.readAllBytes(expected);
        String map = ok("qemu-img", "map", "--output=json", "-f", "qed", image.toString());
        GuestWorkload workload = new GuestWorkload(qemuWrote, seed, clusterSize);
        try (Image qed = open(image)) {
            assertArrayEquals(qemuWrote, GuestWorkload.readAll(qed));
            assertEquals(fromQemuMap(map), normalize(allExtents(qed)));
            workload.run(qed, 100);
        }
        ok("qemu-img", "check", "-f", "qed", image.toString());
        Path model = workload.writeRaw(dir.resolve("model.raw"));
        ok("qemu-img", "compare", "-f", "raw", "-F", "qed", model.toString(), image.toString());
    }

    @ParameterizedTest
    @ValueSource(longs = {4096, 65536, 1 << 20})
    void qemuConvertsToAndFromQed(long clusterSize) throws Exception {
        byte[] data = new byte[(int) SIZE];
        Random random = new Random(clusterSize);
        for (int i = 0; i < 40; i++) {
            int at = random.nextInt(data.length - 100_000);
            random.nextBytes(java.nio.ByteBuffer.wrap(data, at, 1 + random.nextInt(100_000))
                    .slice()
                    .array());
            byte[] chunk = new byte[1 + random.nextInt(100_000)];
            random.nextBytes(chunk);
            System.arraycopy(chunk, 0, data, at, chunk.length);
        }
        Path raw = Files.write(dir.resolve("source.raw"), data);
        Path converted = dir.resolve("converted.qed");
        ok(
                "qemu-img",
                "convert",
                "-f",
                "raw",
                "-O",
                "qed",
                "-o",
                "cluster_size=" + clusterSize,
                raw.toString(),
                converted.toString());
        try (Image qed = open(converted)) {
            assertEquals(clusterSize, qed.info().clusterSizeBytes().getAsInt());
            assertArrayEquals(data, GuestWorkload.readAll(qed));
        }
        // and back: a Siphon image converted by qemu-img to raw
        Path siphon = dir.resolve("siphon.qed");
        create(siphon, SIZE, clusterSize);
        try (Image qed = open(siphon)) {
            qed.write(0, ByteBuffer.wrap(data));
        }
        Path back = dir.resolve("back.raw");
        ok("qemu-img", "convert", "-f", "qed", "-O", "raw", siphon.toString(), back.toString());
        assertArrayEquals(data, Files.readAllBytes(back));
    }

    @Test
    void chainOfQedOverQedOverRawMatchesQemu() throws Exception {
        long seed = GuestWorkload.newSeed("chainOfQedOverQedOverRawMatchesQemu");
        byte[] baseData = new byte[(int) SIZE];
        new Random(seed).nextBytes(baseData);
        Path base = Files.write(dir.resolve("base.raw"), baseData);
        Path middle = dir.resolve("middle.qed");
        Path top = dir.resolve("top.qed");
        // middle made by qemu-img, top by Siphon; both with relative backing names
        ok("qemu-img", "create", "-q", "-f", "qed", "-b", "base.raw", "-F", "raw", middle.toString());
        ok(
                "qemu-io",
                "-f",
                "qed",
                "-c",
                "write -P 0x11 65536 70000",
                "-c",
                "write -z 1048576 131072",
                middle.toString());
        Formats.byName("qed")
                .create(
                        top,
                        new CreateOptions(
                                CreateOptions.SIZE_OF_BACKING,
                                Optional.of(new BackingReference("middle.qed", Optional.of("qed"))),
                                Map.of("cluster_size", "4k")));
        byte[] expectedBefore = Files.readAllBytes(convertToRaw(middle, "before.raw"));
        GuestWorkload workload = new GuestWorkload(expectedBefore, seed, 4096);
        try (ImageChain chain = ImageChain.open(top, Optional.empty(), OpenOptions.READ_WRITE)) {
            assertEquals(3, chain.images().size());
            assertEquals(
                    Optional.of("raw"), chain.images().get(1).backingReference().flatMap(BackingReference::format));
            assertEquals(SIZE, chain.top().sizeBytes());
            assertArrayEquals(expectedBefore, GuestWorkload.readAll(chain.top()));
            workload.run(chain.top(), 150);
            assertArrayEquals(workload.model(), GuestWorkload.readAll(chain.top()));
        }
        String info = ok("qemu-img", "info", "--output=json", top.toString());
        assertEquals("middle.qed", QemuTools.jsonString(info, "backing-filename"), info);
        ok("qemu-img", "check", top.toString());
        Path model = workload.writeRaw(dir.resolve("model.raw"));
        ok("qemu-img", "compare", "-f", "raw", model.toString(), top.toString());
        // and QEMU writing into Siphon's top, read back through Siphon's chain
        ok("qemu-io", "-c", "write -P 0x44 12345 54321", top.toString());
        byte[] afterQemu = Files.readAllBytes(convertToRaw(top, "after.raw"));
        try (ImageChain chain = ImageChain.open(top, Optional.empty(), OpenOptions.READ_ONLY)) {
            assertArrayEquals(afterQemu, GuestWorkload.readAll(chain.top()));
        }
    }

    @Test
    void chainOfQedOverQcow2OverRawMatchesQemu() throws Exception {
        long seed = GuestWorkload.newSeed("chainOfQedOverQcow2OverRawMatchesQemu");
        byte[] baseData = new byte[(int) SIZE];
        new Random(seed).nextBytes(baseData);
        Files.write(dir.resolve("base.raw"), baseData);
        Path middle = dir.resolve("middle.qcow2");
        Path top = dir.resolve("top.qed");
        Formats.byName("qcow2")
                .create(
                        middle,
                        new CreateOptions(
                                CreateOptions.SIZE_OF_BACKING,
                                Optional.of(BackingReference.of("base.raw", "raw")),
                                Map.of()));
        ok(
                "qemu-io",
                "-f",
                "qcow2",
                "-c",
                "write -P 0x21 100000 300000",
                "-c",
                "write -z 2097152 65536",
                middle.toString());
        createWithBacking(top, "middle.qcow2", "qcow2", "64k");
        runChainAndCompare(top, 3, seed, 65536);
    }

    @Test
    void chainOfQcow2OverQedOverRawMatchesQemu() throws Exception {
        long seed = GuestWorkload.newSeed("chainOfQcow2OverQedOverRawMatchesQemu");
        byte[] baseData = new byte[(int) SIZE];
        new Random(seed).nextBytes(baseData);
        Files.write(dir.resolve("base.raw"), baseData);
        Path middle = dir.resolve("middle.qed");
        Path top = dir.resolve("top.qcow2");
        createWithBacking(middle, "base.raw", "raw", "4k");
        GuestWorkload middleWorkload = new GuestWorkload(baseData, seed + 1, 4096);
        try (ImageChain chain = ImageChain.open(middle, Optional.empty(), OpenOptions.READ_WRITE)) {
            middleWorkload.run(chain.top(), 60);
            assertArrayEquals(middleWorkload.model(), GuestWorkload.readAll(chain.top()));
        }
        ok("qemu-img", "check", middle.toString());
        assertArrayEquals(middleWorkload.model(), Files.readAllBytes(convertToRaw(middle, "middle.raw")));
        Formats.byName("qcow2")
                .create(
                        top,
                        new CreateOptions(
                                CreateOptions.SIZE_OF_BACKING,
                                Optional.of(BackingReference.of("middle.qed", "qed")),
                                Map.of()));
        runChainAndCompare(top, 3, seed, 65536);
    }

    private static void createWithBacking(Path image, String backing, String format, String clusterSize)
            throws IOException {
        Formats.byName("qed")
                .create(
                        image,
                        new CreateOptions(
                                CreateOptions.SIZE_OF_BACKING,
                                Optional.of(BackingReference.of(backing, format)),
                                Map.of("cluster_size", clusterSize)));
    }

    /**
     * Opens the chain at {@code top} in Siphon, checks it reads as qemu-img converts it, runs a
     * workload, and has qemu-img compare and check the result.
     */
    private void runChainAndCompare(Path top, int depth, long seed, long clusterSize) throws Exception {
        byte[] before = Files.readAllBytes(convertToRaw(top, "before.raw"));
        GuestWorkload workload = new GuestWorkload(before, seed, clusterSize);
        try (ImageChain chain = ImageChain.open(top, Optional.empty(), OpenOptions.READ_WRITE)) {
            assertEquals(depth, chain.images().size());
            assertArrayEquals(before, GuestWorkload.readAll(chain.top()));
            workload.run(chain.top(), 120);
            assertArrayEquals(workload.model(), GuestWorkload.readAll(chain.top()));
        }
        ok("qemu-img", "check", top.toString());
        Path model = workload.writeRaw(dir.resolve("model.raw"));
        ok("qemu-img", "compare", "-f", "raw", model.toString(), top.toString());
    }

    @Test
    void rawBackingIsRecordedWithNoProbeAndOthersAreNot() throws Exception {
        Files.write(dir.resolve("base.raw"), new byte[1 << 20]);
        Path rawTop = dir.resolve("raw-top.qed");
        Formats.byName("qed")
                .create(
                        rawTop,
                        new CreateOptions(
                                CreateOptions.SIZE_OF_BACKING,
                                Optional.of(BackingReference.of("base.raw", "raw")),
                                Map.of()));
        String info = ok("qemu-img", "info", "--output=json", rawTop.toString());
        assertEquals("raw", QemuTools.jsonString(info, "backing-filename-format"), info);
        assertEquals(1 << 20, QemuTools.jsonLong(info, "virtual-size"));
        Path qedTop = dir.resolve("qed-top.qed");
        Formats.byName("qed")
                .create(
                        qedTop,
                        new CreateOptions(
                                CreateOptions.SIZE_OF_BACKING,
                                Optional.of(BackingReference.of("raw-top.qed", "qed")),
                                Map.of()));
        info = ok("qemu-img", "info", "--output=json", qedTop.toString());
        assertEquals(null, QemuTools.jsonString(info, "backing-filename-format"), info);
        assertEquals("raw-top.qed", QemuTools.jsonString(info, "backing-filename"), info);
        byte[] header = Files.readAllBytes(qedTop);
        assertEquals(QedHeader.F_BACKING_FILE, header[16], "features: backing file only");
        assertEquals(QedHeader.F_BACKING_FILE | QedHeader.F_BACKING_FORMAT_NO_PROBE, Files.readAllBytes(rawTop)[16]);
    }

    @Test
    void changedBackingReferenceIsWhatQemuSees() throws Exception {
        Files.write(dir.resolve("a.raw"), new byte[1 << 20]);
        Path top = dir.resolve("top.qed");
        ok("qemu-img", "create", "-q", "-f", "qed", "-b", "a.raw", "-F", "raw", top.toString());
        try (Image qed = open(top)) {
            assertEquals(Optional.of(BackingReference.of("a.raw", "raw")), qed.backingReference());
            qed.changeBackingReference(Optional.of(new BackingReference("sub/other-base.qed", Optional.of("qed"))));
        }
        String info = ok("qemu-img", "info", "-U", "--output=json", top.toString());
        assertEquals("sub/other-base.qed", QemuTools.jsonString(info, "backing-filename"), info);
        assertEquals(null, QemuTools.jsonString(info, "backing-filename-format"), info);
        try (Image qed = open(top)) {
            qed.changeBackingReference(Optional.empty());
        }
        info = ok("qemu-img", "info", "--output=json", top.toString());
        assertEquals(null, QemuTools.jsonString(info, "backing-filename"), info);
        ok("qemu-img", "check", top.toString());
    }

    @Test
    void needCheckIsSetWhileAllocatingAndClearedByFlush() throws Exception {
        Path image = dir.resolve("dirty.qed");
        create(image, SIZE, 65536);
        try (Image qed = open(image)) {
            qed.write(4096, ByteBuffer.wrap(new byte[] {1, 2, 3}));
            assertEquals(QedHeader.F_NEED_CHECK, featuresOnDisk(image), "NEED_CHECK on disk while allocating");
            assertTrue(qed.info().dirty());
            // qemu-img check does not repair, and finds the image consistent meanwhile
            String check = ok("qemu-img", "check", "-U", image.toString());
            assertTrue(check.contains("No errors"), check);
            qed.flush();
            assertEquals(0, featuresOnDisk(image), "NEED_CHECK cleared by flush");
            // an in-place write allocates nothing and leaves the image clean
            qed.write(8192, ByteBuffer.wrap(new byte[] {4}));
            assertFalse(qed.info().dirty());
            qed.write(1 << 20, ByteBuffer.wrap(new byte[] {5}));
        }
        assertEquals(0, featuresOnDisk(image), "NEED_CHECK cleared by close");
    }

    private static long featuresOnDisk(Path image) throws IOException {
        return ByteBuffer.wrap(Files.readAllBytes(image), 16, 8)
                .order(java.nio.ByteOrder.LITTLE_ENDIAN)
                .getLong();
    }

    @ParameterizedTest
    @ValueSource(longs = {4096, 65536})
    void checkCountsMatchQemuAndRepairSatisfiesIt(long clusterSize) throws Exception {
        Path image = dir.resolve("broken.qed");
        long size = 32L << 20;
        create(image, size, clusterSize);
        try (Image qed = open(image)) {
            // 20 MiB of data: with 4 KiB clusters more than cluster_size - 1 clusters, where
            // qemu-img's leak count grows phantom leaks
            byte[] data = new byte[20 << 20];
            new Random(7).nextBytes(data);
            qed.write(0, ByteBuffer.wrap(data));
        }
        QedHeader header = QedHeader.decode(
                ByteBuffer.wrap(Files.readAllBytes(image), 0, QedHeader.BYTES), image, Files.size(image));
        long fileSize = Files.size(image);
        try (var channel = java.nio.channels.FileChannel.open(image, java.nio.file.StandardOpenOption.WRITE)) {
            // two leaked clusters at the end, one L2 entry past the end of the file
            channel.write(ByteBuffer.allocate(1), fileSize + 2 * clusterSize - 1);
            long l2 = l1Entry(image, header, 0);
            channel.write(littleEndian(fileSize + 10 * clusterSize), l2 + 8 * 3);
        }
        String qemu = QemuTools.run("qemu-img", "check", "--output=json", "-f", "qed", image.toString())
                .stdout();
        CheckReport ours;
        try (Image qed = ImageChain.openOne(image, Optional.of("qed"), OpenOptions.READ_ONLY)) {
            ours = qed.check(RepairMode.NONE);
        }
        System.out.println(ours);
        assertEquals(QemuTools.jsonLong(qemu, "corruptions"), ours.corruptions(), qemu);
        assertEquals(QemuTools.jsonLong(qemu, "leaks"), ours.leaks(), qemu);
        assertEquals(QemuTools.jsonLong(qemu, "allocated-clusters"), ours.allocatedClusters(), qemu);
        assertEquals(QemuTools.jsonLong(qemu, "total-clusters"), ours.totalClusters(), qemu);
        assertEquals(QemuTools.jsonLong(qemu, "check-errors"), ours.checkErrors(), qemu);
        assertEquals(Math.max(0, QemuTools.jsonLong(qemu, "fragmented-clusters")), ours.fragmentedClusters(), qemu);
        assertEquals(2, ours.exitStatus());
        try (Image qed = open(image)) {
            CheckReport repaired = qed.check(RepairMode.ALL);
            assertEquals(1, repaired.corruptionsFixed(), repaired.toString());
            assertEquals(0, repaired.corruptions());
        }
        String after = QemuTools.run("qemu-img", "check", "--output=json", "-f", "qed", image.toString())
                .stdout();
        assertEquals(0, QemuTools.jsonLong(after, "corruptions") < 0 ? 0 : QemuTools.jsonLong(after, "corruptions"));
        // the trailing leaks were cut off; the cluster the broken entry referenced stays leaked,
        // and so do qemu-img's phantom leaks
        long phantom = (Files.size(image) / clusterSize) / (clusterSize - 1);
        assertEquals(1 + phantom, QemuTools.jsonLong(after, "leaks"), after);
        try (Image qed = ImageChain.openOne(image, Optional.of("qed"), OpenOptions.READ_ONLY)) {
            CheckReport again = qed.check(RepairMode.NONE);
            assertEquals(1 + phantom, again.leaks(), again.toString());
            assertEquals(3, again.exitStatus());
        }
    }

    private static long l1Entry(Path image, QedHeader header, int index) throws IOException {
        ByteBuffer entry = ByteBuffer.allocate(8).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        try (var channel = java.nio.channels.FileChannel.open(image)) {
            channel.read(entry, header.l1TableOffset() + 8L * index);
        }
        return entry.flip().getLong();
    }

    private static ByteBuffer littleEndian(long value) {
        return ByteBuffer.allocate(8)
                .order(java.nio.ByteOrder.LITTLE_ENDIAN)
                .putLong(value)
                .flip();
    }

    private Path convertToRaw(Path image, String name) throws Exception {
        Path out = dir.resolve(name);
        ok("qemu-img", "convert", "-O", "raw", image.toString(), out.toString());
        return out;
    }

    private static List<Extent> allExtents(Image image) throws IOException {
        List<Extent> all = new ArrayList<>();
        long offset = 0;
        while (offset < image.sizeBytes()) {
            for (Extent e : image.blockStatus(offset, image.sizeBytes() - offset)) {
                all.add(e);
                offset = e.endBytes();
            }
        }
        return all;
    }

    /** What a map says per range: DATA with its host offset, ZERO, or UNALLOCATED; merged. */
    record Mapped(long start, long length, Allocation allocation, long offset) {}

    private static List<Mapped> normalize(List<Extent> extents) {
        List<Mapped> out = new ArrayList<>();
        for (Extent e : extents) {
            add(out, new Mapped(e.offsetBytes(), e.lengthBytes(), e.allocation(), e.hostOffsetBytes()));
        }
        return out;
    }

    private static List<Mapped> fromQemuMap(String json) {
        List<Mapped> out = new ArrayList<>();
        for (QemuTools.MapEntry e : QemuTools.map(json)) {
            Allocation allocation;
            long offset = -1;
            if (e.depth() > 0 || !e.present()) {
                allocation = Allocation.UNALLOCATED;
            } else if (e.data()) {
                allocation = Allocation.DATA;
                offset = e.offset();
            } else {
                allocation = Allocation.ZERO;
            }
            add(out, new Mapped(e.start(), e.length(), allocation, offset));
        }
        return out;
    }

    private static void add(List<Mapped> out, Mapped next) {
        if (!out.isEmpty()) {
            Mapped last = out.getLast();
            boolean joins = last.allocation() == next.allocation()
                    && (next.allocation() != Allocation.DATA || last.offset() + last.length() == next.offset());
            if (joins) {
                out.set(
                        out.size() - 1,
                        new Mapped(last.start(), last.length() + next.length(), last.allocation(), last.offset()));
                return;
            }
        }
        out.add(next);
    }
}
