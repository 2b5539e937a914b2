package io.siphon.format.qcow2;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.block.Extent;
import io.siphon.format.ImageChain;
import io.siphon.format.ImageFormatException;
import io.siphon.format.ImageFormatException.Reason;
import io.siphon.format.OpenOptions;
import io.siphon.testing.QemuTools;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Crafted malformed images: each one gives an {@link ImageFormatException} naming the file and the
 * field, without running out of memory (tests run with a 512 MiB heap) or hanging.
 */
class MalformedImagesTest {
    @TempDir
    Path dir;

    /** A change to a good image's bytes. */
    interface Patch {
        void apply(FileChannel file, Layout layout) throws IOException;
    }

    /** Where the good image keeps its structures (read from its header). */
    record Layout(int clusterSize, long l1Offset, long refcountTableOffset, long l2Offset, long fileSize) {}

    static Stream<Arguments> cases() {
        return Stream.of(
                malformed("truncated header", "header", (f, l) -> f.truncate(50)),
                malformed("bad magic", "magic", (f, l) -> putInt(f, 0, 0x51464900)),
                unsupported("version 1", "version", (f, l) -> putInt(f, 4, 1)),
                unsupported("version 4", "version", (f, l) -> putInt(f, 4, 4)),
                malformed("cluster bits too small", "cluster_bits", (f, l) -> putInt(f, 20, 8)),
                malformed("cluster bits too large", "cluster_bits", (f, l) -> putInt(f, 20, 31)),
                malformed("absurd L1 size", "l1_size", (f, l) -> putInt(f, 36, 0x7fffffff)),
                malformed("L1 at the size limit past EOF", "l1_table_offset", (f, l) -> putInt(f, 36, 4 << 20)),
                malformed("L1 too small for the disk", "l1_size", (f, l) -> putLong(f, 24, 1L << 50)),
                malformed("L1 past EOF", "l1_table_offset", (f, l) -> putLong(f, 40, 1L << 40)),
                malformed("L1 unaligned", "l1_table_offset", (f, l) -> putLong(f, 40, l.l1Offset() + 8)),
                malformed("refcount table past EOF", "refcount_table_offset", (f, l) -> putLong(f, 48, 1L << 40)),
                malformed(
                        "refcount table overlaps L1", "refcount_table_offset", (f, l) -> putLong(f, 48, l.l1Offset())),
                malformed("absurd refcount table", "refcount_table_clusters", (f, l) -> putInt(f, 56, 0x7fffffff)),
                malformed("zero refcount table", "refcount_table_clusters", (f, l) -> putInt(f, 56, 0)),
                malformed("absurd snapshot count", "nb_snapshots", (f, l) -> putInt(f, 60, -1)),
                unsupported(
                        "unknown incompatible feature bit",
                        "incompatible_features",
                        (f, l) -> putLong(f, 72, 1L << 40)),
                unsupported(
                        "extended L2 entries on clusters under 16 KiB",
                        "cluster_bits",
                        (f, l) -> putLong(f, 72, 1L << 4)),
                unsupported("external data file", "incompatible_features", (f, l) -> putLong(f, 72, 1L << 2)),
                malformed("refcount order 7", "refcount_order", (f, l) -> putInt(f, 96, 7)),
                malformed("header length 100", "header_length", (f, l) -> putInt(f, 100, 100)),
                malformed("header length past the cluster", "header_length", (f, l) -> putInt(f, 100, 1 << 20)),
                unsupported("AES encryption", "crypt_method", (f, l) -> putInt(f, 32, 1)),
                malformed("unknown crypt method", "crypt_method", (f, l) -> putInt(f, 32, 9)),
                malformed("compression type without its bit", "compression_type", (f, l) -> putByteAt(f, 104, 1)),
                malformed("over-long backing name", "backing_file_size", (f, l) -> {
                    putLong(f, 8, 512);
                    putInt(f, 16, 5000);
                }),
                malformed("backing name past the first cluster", "backing_file_offset", (f, l) -> {
                    putLong(f, 8, l.clusterSize() - 4);
                    putInt(f, 16, 100);
                }),
                malformed("header extension runs past the cluster", "header extension", (f, l) -> {
                    putInt(f, 112, 0x12345678);
                    putInt(f, 116, 1 << 20);
                }),
                malformed("backing format name too long", "backing format extension", (f, l) -> {
                    putInt(f, 112, 0xe2792aca);
                    putInt(f, 116, 64);
                }),
                malformed("L1 entry past EOF", "L1 entry 0", (f, l) -> putLong(f, l.l1Offset(), (1L << 40) | 1L << 63)),
                malformed("L1 entry into the header", "L1 entry 0", (f, l) -> putLong(f, l.l1Offset(), 512 | 1L << 63)),
                malformed(
                        "L1 entry onto the refcount table",
                        "L1 entry 0",
                        (f, l) -> putLong(f, l.l1Offset(), l.refcountTableOffset() | 1L << 63)),
                malformed(
                        "L2 entry into the header",
                        "L2 entry 0",
                        (f, l) -> putLong(f, l.l2Offset(), 1L << 63 | l.clusterSize() / 2)),
                malformed("L2 entry at offset 0", "L2 entry 0", (f, l) -> putLong(f, l.l2Offset(), 1L << 63)),
                malformed("L2 entry past EOF", "L2 entry 0", (f, l) -> putLong(f, l.l2Offset(), 1L << 63 | 1L << 40)),
                malformed(
                        "L2 entry onto the L1 table",
                        "L2 entry 0",
                        (f, l) -> putLong(f, l.l2Offset(), 1L << 63 | l.l1Offset())),
                malformed(
                        "L2 entry onto its own L2 table",
                        "L2 entry 0",
                        (f, l) -> putLong(f, l.l2Offset(), 1L << 63 | l.l2Offset())),
                malformed(
                        "two L1 entries share one L2 table",
                        "L1 entry 1",
                        (f, l) -> putLong(f, l.l1Offset() + 8, l.l2Offset() | 1L << 63)),
                malformed(
                        "refcount block on the L1 table",
                        "refcount table entry 0",
                        (f, l) -> putLong(f, l.refcountTableOffset(), l.l1Offset())),
                malformed(
                        "compressed cluster past EOF",
                        "L2 entry",
                        (f, l) -> putLong(f, l.l2Offset(), 1L << 62 | (1L << 40))),
                malformed(
                        "refcount table entry past EOF",
                        "refcount table entry 0",
                        (f, l) -> putLong(f, l.refcountTableOffset(), 1L << 40)),
                malformed(
                        "refcount block unaligned",
                        "refcount table entry 0",
                        (f, l) -> putLong(f, l.refcountTableOffset(), 4096 + 512)));
    }

    private static Arguments malformed(String name, String field, Patch patch) {
        return Arguments.of(name, Reason.MALFORMED, field, patch);
    }

    private static Arguments unsupported(String name, String field, Patch patch) {
        return Arguments.of(name, Reason.UNSUPPORTED, field, patch);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void malformedImageIsRefusedNamingFileAndField(String name, Reason reason, String field, Patch patch)
            throws Exception {
        Path image = goodImage();
        Layout layout = layout(image);
        try (FileChannel file = FileChannel.open(image, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            patch.apply(file, layout);
        }
        ImageFormatException e = assertTimeoutPreemptively(
                Duration.ofSeconds(60), () -> assertThrows(ImageFormatException.class, () -> readEverything(image)));
        assertEquals(reason, e.reason(), e.getMessage());
        assertEquals(image, e.file(), e.getMessage());
        assertTrue(e.field().startsWith(field), "field '" + e.field() + "' for: " + e.getMessage());
        assertTrue(e.getMessage().contains(image.toString()), e.getMessage());
    }

    @Test
    void backingLoopIsRefused() throws Exception {
        Path a = dir.resolve("a.qcow2");
        Path b = dir.resolve("b.qcow2");
        QemuTools.ok("qemu-img", "create", "-q", "-f", "qcow2", a.toString(), "1M");
        QemuTools.ok("qemu-img", "create", "-q", "-f", "qcow2", "-b", "a.qcow2", "-F", "qcow2", b.toString());
        QemuTools.ok("qemu-img", "rebase", "-u", "-b", "b.qcow2", "-F", "qcow2", a.toString());
        ImageFormatException e = assertThrows(
                ImageFormatException.class,
                () -> ImageChain.open(b, Optional.empty(), OpenOptions.READ_ONLY)
                        .close());
        assertEquals(Reason.BAD_CHAIN, e.reason(), e.getMessage());
        assertEquals("backing file", e.field());
    }

    @Test
    void backingNameLongerThanTheFirstClusterHoldsIsRefusedOnChange() throws Exception {
        Path image = dir.resolve("small.qcow2");
        QemuTools.ok("qemu-img", "create", "-q", "-f", "qcow2", "-o", "cluster_size=512", image.toString(), "1M");
        try (var opened = ImageChain.openOne(image, Optional.empty(), OpenOptions.READ_WRITE)) {
            String longName = "x".repeat(500);
            ImageFormatException e = assertThrows(
                    ImageFormatException.class,
                    () -> opened.changeBackingReference(
                            Optional.of(io.siphon.format.BackingReference.of(longName, "raw"))));
            assertEquals("backing_file_offset", e.field(), e.getMessage());
            assertEquals(Optional.empty(), opened.backingReference(), "the header is unchanged");
        }
        QemuTools.assertCheckClean(image);
    }

    private Path goodImage() throws Exception {
        Path image = dir.resolve("good.qcow2");
        QemuTools.ok("qemu-img", "create", "-q", "-f", "qcow2", "-o", "cluster_size=4k", image.toString(), "4M");
        QemuTools.ok("qemu-io", "-f", "qcow2", "-c", "write -P 0x61 0 64k", "-c", "write 2M 64k", image.toString());
        return image;
    }

    private static Layout layout(Path image) throws IOException {
        ByteBuffer header = ByteBuffer.wrap(Files.readAllBytes(image));
        int clusterSize = 1 << header.getInt(20);
        long l1 = header.getLong(40);
        long l2 = header.getLong((int) l1) & 0x00fffffffffffe00L;
        return new Layout(clusterSize, l1, header.getLong(48), l2, header.capacity());
    }

    private static void readEverything(Path image) throws IOException {
        try (ImageChain chain = ImageChain.open(image, Optional.of("qcow2"), OpenOptions.READ_ONLY)) {
            var top = chain.top();
            ByteBuffer buffer = ByteBuffer.allocate(1 << 20);
            for (long at = 0; at < top.sizeBytes(); at += buffer.capacity()) {
                buffer.clear().limit((int) Math.min(buffer.capacity(), top.sizeBytes() - at));
                top.read(at, buffer);
            }
            List<Extent> extents = top.blockStatus(0, top.sizeBytes());
            assertTrue(!extents.isEmpty());
            top.check(io.siphon.format.RepairMode.NONE);
        }
    }

    private static void putInt(FileChannel f, long at, int value) throws IOException {
        f.write(ByteBuffer.allocate(4).putInt(0, value), at);
    }

    private static void putLong(FileChannel f, long at, long value) throws IOException {
        f.write(ByteBuffer.allocate(8).putLong(0, value), at);
    }

    private static void putByteAt(FileChannel f, long at, int value) throws IOException {
        f.write(ByteBuffer.wrap(new byte[] {(byte) value}), at);
    }

    static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
