package io.siphon.format.qcow2;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.block.Allocation;
import io.siphon.block.FastZeroUnsupportedException;
import io.siphon.block.RequestFlag;
import io.siphon.format.BackingReference;
import io.siphon.format.CreateOptions;
import io.siphon.format.Formats;
import io.siphon.format.Image;
import io.siphon.format.ImageChain;
import io.siphon.format.ImageFormatException;
import io.siphon.format.ImageFormatException.Reason;
import io.siphon.format.ImageInfo;
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
import java.util.Set;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Features beyond plain reads and writes: unsupported features, header changes, info, zeroing rules. */
@Tag("interop")
class Qcow2FeaturesTest {
    @TempDir
    Path dir;

    private Path qemuImage(String name, String... createOptions) throws Exception {
        Path image = dir.resolve(name);
        QemuTools.createQcow2(image, "4M", createOptions);
        return image;
    }

    @Test
    void imageWithInternalSnapshotsReadsItsActiveStateAndOpensForWriting() throws Exception {
        Path image = qemuImage("snap.qcow2");
        QemuTools.ok("qemu-io", "-f", "qcow2", "-c", "write -P 1 0 128k", image.toString());
        QemuTools.ok("qemu-img", "snapshot", "-c", "before", image.toString());
        QemuTools.ok("qemu-io", "-f", "qcow2", "-c", "write -P 2 64k 128k", image.toString());
        try (Image opened = ImageChain.openOne(image, Optional.empty(), OpenOptions.READ_ONLY)) {
            byte[] expected = new byte[256 << 10];
            Arrays.fill(expected, 0, 64 << 10, (byte) 1);
            Arrays.fill(expected, 64 << 10, 192 << 10, (byte) 2);
            ByteBuffer actual = ByteBuffer.allocate(256 << 10);
            opened.read(0, actual);
            assertArrayEquals(expected, actual.array());
        }
        // writes into it copy what the snapshot shares (SnapshotWriteTest)
        ImageChain.openOne(image, Optional.empty(), OpenOptions.READ_WRITE).close();
        QemuTools.assertCheckClean(image);
    }

    @Test
    void unsupportedFeaturesAreRefusedNamingTheField() throws Exception {
        Path external = qemuImage("external.qcow2", "-o", "data_file=" + dir.resolve("data.raw"));
        // qemu-img cannot create LUKS images where CPU time is not measurable (its key stretching
        // benchmarks itself), so mark a plain image as LUKS-encrypted (crypt_method 2)
        Path luks = qemuImage("luks.qcow2");
        try (FileChannel file = FileChannel.open(luks, StandardOpenOption.WRITE)) {
            file.write(ByteBuffer.allocate(4).putInt(0, 2), 32);
        }
        for (Path image : new Path[] {external}) {
            ImageFormatException e = assertThrows(
                    ImageFormatException.class,
                    () -> ImageChain.openOne(image, Optional.empty(), OpenOptions.READ_ONLY));
            assertEquals(Reason.UNSUPPORTED, e.reason(), e.getMessage());
            assertEquals("incompatible_features", e.field(), e.getMessage());
        }
        ImageFormatException e = assertThrows(
                ImageFormatException.class, () -> ImageChain.openOne(luks, Optional.empty(), OpenOptions.READ_ONLY));
        assertEquals(Reason.UNSUPPORTED, e.reason(), e.getMessage());
        assertEquals("crypt_method", e.field(), e.getMessage());
    }

    @Test
    void unknownAutoclearBitsAreClearedWhenOpenedForWriting() throws Exception {
        Path image = qemuImage("autoclear.qcow2");
        try (FileChannel file = FileChannel.open(image, StandardOpenOption.WRITE)) {
            file.write(ByteBuffer.allocate(8).putLong(0, 1L << 20), 88);
        }
        ImageChain.openOne(image, Optional.empty(), OpenOptions.READ_ONLY).close();
        assertEquals(1L << 20, headerLong(image, 88), "read-only open leaves the header alone");
        ImageChain.openOne(image, Optional.empty(), OpenOptions.READ_WRITE).close();
        assertEquals(0, headerLong(image, 88));
        QemuTools.assertCheckClean(image);
    }

    @Test
    void imageMarkedCorruptRefusesWrites() throws Exception {
        Path image = qemuImage("corrupt.qcow2");
        try (FileChannel file = FileChannel.open(image, StandardOpenOption.WRITE)) {
            file.write(ByteBuffer.allocate(8).putLong(0, 2), 72);
        }
        try (Image opened = ImageChain.openOne(image, Optional.empty(), OpenOptions.READ_WRITE)) {
            assertEquals(Boolean.TRUE, opened.info().formatSpecific().get("corrupt"));
            ImageFormatException e =
                    assertThrows(ImageFormatException.class, () -> opened.write(0, ByteBuffer.allocate(512)));
            assertEquals("incompatible_features", e.field());
            opened.read(0, ByteBuffer.allocate(512));
        }
    }

    @Test
    void infoMatchesQemuImgInfo() throws Exception {
        Path v3 = qemuImage("v3.qcow2", "-o", "lazy_refcounts=on,refcount_bits=64,cluster_size=4k");
        Path v2 = qemuImage("v2.qcow2", "-o", "compat=0.10");
        Path zstd = qemuImage("zstd.qcow2", "-o", "compression_type=zstd");
        for (Path image : new Path[] {v3, v2, zstd}) {
            String qemu = QemuTools.ok("qemu-img", "info", "--output=json", image.toString());
            try (Image opened = ImageChain.openOne(image, Optional.empty(), OpenOptions.READ_ONLY)) {
                ImageInfo info = opened.info();
                StringBuilder expected = new StringBuilder();
                for (Map.Entry<String, Object> e : info.formatSpecific().entrySet()) {
                    Object v = e.getValue();
                    expected.append('"').append(e.getKey()).append("\": ");
                    expected.append(v instanceof String ? "\"" + v + "\"" : v.toString());
                    expected.append(",\n");
                }
                String qemuSpecific = qemu.substring(qemu.indexOf("\"data\": {") + 9, qemu.indexOf("}"))
                        .replaceAll("\n\\s+", "\n")
                        .trim();
                assertEquals(qemuSpecific, expected.toString().trim().replaceAll(",$", ""), image.toString());
                assertEquals(
                        RepairTest.field(qemu, "cluster-size"),
                        info.clusterSizeBytes().orElseThrow());
                assertEquals(RepairTest.field(qemu, "virtual-size"), info.virtualSizeBytes());
            }
        }
    }

    @Test
    void changingTheBackingReferenceRewritesTheHeaderAsQemuReadsIt() throws Exception {
        Path base = dir.resolve("base.raw");
        Files.write(base, new byte[4 << 20]);
        Path longBase = dir.resolve("a-rather-long-directory-name-for-the-base-image-" + "x".repeat(60) + ".qcow2");
        QemuTools.ok("qemu-img", "create", "-q", "-f", "qcow2", longBase.toString(), "4M");
        Path image = dir.resolve("top.qcow2");
        Formats.byName("qcow2")
                .create(
                        image,
                        new CreateOptions(
                                CreateOptions.SIZE_OF_BACKING,
                                Optional.of(new BackingReference("base.raw", Optional.of("raw"))),
                                Map.of()));
        assertTrue(QemuTools.ok("qemu-img", "info", image.toString()).contains("backing file: base.raw"));
        try (Image opened = ImageChain.openOne(image, Optional.empty(), OpenOptions.READ_WRITE)) {
            assertEquals(4 << 20, opened.sizeBytes(), "size taken from the backing file");
            opened.changeBackingReference(
                    Optional.of(BackingReference.of(longBase.getFileName().toString(), "qcow2")));
        }
        String info = QemuTools.ok("qemu-img", "info", "--output=json", image.toString());
        assertTrue(info.contains("\"backing-filename\": \"" + longBase.getFileName() + "\""), info);
        assertTrue(info.contains("\"backing-filename-format\": \"qcow2\""), info);
        QemuTools.assertCheckClean(image);
        try (ImageChain chain = ImageChain.open(image, Optional.empty(), OpenOptions.READ_WRITE)) {
            assertEquals(2, chain.images().size());
            chain.top().changeBackingReference(Optional.empty());
        }
        info = QemuTools.ok("qemu-img", "info", "--output=json", image.toString());
        assertFalse(info.contains("backing-filename"), info);
        QemuTools.assertCheckClean(image);
    }

    @Test
    void writeZeroesOnV2WithBackingNeedsFallbackAndDiscardFollowsQemu() throws Exception {
        Path base = qemuImage("zbase.qcow2");
        QemuTools.ok("qemu-io", "-f", "qcow2", "-c", "write -P 0x77 0 4M", base.toString());
        for (String compat : new String[] {"0.10", "1.1"}) {
            Path image = dir.resolve("z" + compat + ".qcow2");
            Formats.byName("qcow2")
                    .create(
                            image,
                            new CreateOptions(
                                    CreateOptions.SIZE_OF_BACKING,
                                    Optional.of(BackingReference.of("zbase.qcow2", "qcow2")),
                                    Map.of("compat", compat)));
            try (ImageChain chain = ImageChain.open(image, Optional.empty(), OpenOptions.READ_WRITE)) {
                Image top = chain.top();
                if (compat.equals("0.10")) {
                    assertThrows(
                            FastZeroUnsupportedException.class,
                            () -> top.writeZeroes(0, 1 << 20, Set.of(RequestFlag.NO_FALLBACK)));
                } else {
                    top.writeZeroes(0, 1 << 20, Set.of(RequestFlag.NO_FALLBACK, RequestFlag.MAY_UNMAP));
                    assertEquals(
                            Allocation.ZERO,
                            top.blockStatus(0, 1 << 20).getFirst().allocation());
                    assertThrows(
                            FastZeroUnsupportedException.class,
                            () -> top.writeZeroes(1 << 20, 1000, Set.of(RequestFlag.NO_FALLBACK)));
                }
                top.writeZeroes(0, 1 << 20, Set.of());
                top.write(2 << 20, ByteBuffer.wrap(new byte[65536]));
                top.discard(2 << 20, 65536);
                ByteBuffer discarded = ByteBuffer.allocate(65536);
                top.read(2 << 20, discarded);
                byte expected = compat.equals("1.1") ? 0 : (byte) 0x77;
                byte[] want = new byte[65536];
                Arrays.fill(want, expected);
                assertArrayEquals(want, discarded.array(), "discard on compat " + compat);
                ByteBuffer zeroed = ByteBuffer.allocate(1 << 20);
                top.read(0, zeroed);
                assertArrayEquals(new byte[1 << 20], zeroed.array());
            }
            QemuTools.assertCheckClean(image);
            QemuMadeImagesTest.assertMapsLikeQemu(image);
        }
    }

    @Test
    void createRefusesBadOptions() throws Exception {
        var format = Formats.byName("qcow2");
        for (Map<String, String> options : List.of(
                Map.of("cluster_size", "256"),
                Map.of("cluster_size", "4M"),
                Map.of("compat", "2.0"),
                Map.of("refcount_bits", "3"),
                Map.of("compat", "0.10", "refcount_bits", "64"),
                Map.of("preallocation", "bogus"))) {
            ImageFormatException e = assertThrows(
                    ImageFormatException.class,
                    () -> format.create(
                            dir.resolve("bad.qcow2"), new CreateOptions(1 << 20, Optional.empty(), options)));
            assertEquals(Reason.REFUSED, e.reason(), e.getMessage());
            assertFalse(Files.exists(dir.resolve("bad.qcow2")));
        }
    }

    /**
     * The largest L1 table QEMU allows (32 MiB: 4 Mi entries, a 128 GiB disk of 512-byte clusters)
     * opens, reads, writes and checks within the tests' 512 MiB heap; larger ones are refused.
     */
    @Test
    void largestL1TableStaysWithinTheHeap() throws Exception {
        Path image = dir.resolve("huge.qcow2");
        QemuTools.createQcow2(image, "128G", "-o", "cluster_size=512");
        assertEquals(32L << 20, headerLong(image, 36) >>> 32 << 3, "qemu-img made a 32 MiB L1 table");
        long size;
        try (Image opened = ImageChain.openOne(image, Optional.empty(), OpenOptions.READ_WRITE)) {
            size = opened.sizeBytes();
            byte[] data = new byte[4096];
            Arrays.fill(data, (byte) 0x3c);
            opened.write(size - 4096, ByteBuffer.wrap(data));
            ByteBuffer back = ByteBuffer.allocate(4096);
            opened.read(size - 4096, back);
            assertArrayEquals(data, back.array());
            assertEquals(0, opened.check(io.siphon.format.RepairMode.NONE).exitStatus());
        }
        QemuTools.assertCheckClean(image);
        ImageFormatException e = assertThrows(
                ImageFormatException.class,
                () -> Formats.byName("qcow2")
                        .create(
                                dir.resolve("too-big.qcow2"),
                                new CreateOptions(size * 2, Optional.empty(), Map.of("cluster_size", "512"))));
        assertEquals("size", e.field(), e.getMessage());
    }

    @Test
    void probeRecognisesQcow2ByMagic() throws Exception {
        Path image = qemuImage("probe.qcow2");
        assertEquals("qcow2", Formats.probe(image).name());
    }

    private static long headerLong(Path image, int at) throws Exception {
        try (FileChannel file = FileChannel.open(image)) {
            ByteBuffer b = ByteBuffer.allocate(8);
            file.read(b, at);
            return b.getLong(0);
        }
    }
}
