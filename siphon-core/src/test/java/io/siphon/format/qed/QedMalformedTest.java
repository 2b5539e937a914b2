package io.siphon.format.qed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Malformed QED files are refused with a typed error naming the file, the field and the value. */
class QedMalformedTest {
    private static final long CLUSTER = 65536;

    @TempDir
    Path dir;

    /** A damage done to a valid image with a backing name, and what the error must say. */
    record Case(String name, Reason reason, String field, String valueInMessage, Damage damage) {
        @Override
        public String toString() {
            return name;
        }
    }

    @FunctionalInterface
    interface Damage {
        void apply(FileChannel file) throws IOException;
    }

    static Stream<Arguments> cases() {
        return Stream.of(
                        new Case(
                                "file shorter than the header",
                                Reason.MALFORMED,
                                "header",
                                "30 bytes",
                                f -> f.truncate(30)),
                        new Case("wrong magic", Reason.MALFORMED, "magic", "0x00444552", f -> put32(f, 0, 0x00444552)),
                        new Case(
                                "unknown feature bit", Reason.UNSUPPORTED, "features", "0x10", f -> put64(f, 16, 0x11)),
                        new Case(
                                "cluster size not a power of two",
                                Reason.MALFORMED,
                                "cluster_size",
                                "5000",
                                f -> put32(f, 4, 5000)),
                        new Case(
                                "cluster size below 4 KiB",
                                Reason.MALFORMED,
                                "cluster_size",
                                "2048",
                                f -> put32(f, 4, 2048)),
                        new Case(
                                "cluster size above 64 MiB",
                                Reason.MALFORMED,
                                "cluster_size",
                                "134217728",
                                f -> put32(f, 4, 128 << 20)),
                        new Case(
                                "table size not a power of two",
                                Reason.MALFORMED,
                                "table_size",
                                "3",
                                f -> put32(f, 8, 3)),
                        new Case("table size above 16", Reason.MALFORMED, "table_size", "32", f -> put32(f, 8, 32)),
                        new Case("table size zero", Reason.MALFORMED, "table_size", "0", f -> put32(f, 8, 0)),
                        new Case("header size zero", Reason.MALFORMED, "header_size", "0", f -> put32(f, 12, 0)),
                        new Case(
                                "header size overflowing 32 bits",
                                Reason.MALFORMED,
                                "header_size",
                                "65536",
                                f -> put32(f, 12, 65536)),
                        new Case(
                                "image size not a multiple of 512",
                                Reason.MALFORMED,
                                "image_size",
                                "1000",
                                f -> put64(f, 48, 1000)),
                        new Case(
                                "image size beyond the tables' reach",
                                Reason.MALFORMED,
                                "image_size",
                                "9223372036854775296",
                                f -> put64(f, 48, Long.MAX_VALUE - 511)),
                        new Case(
                                "negative image size",
                                Reason.MALFORMED,
                                "image_size",
                                "18446744073709551104",
                                f -> put64(f, 48, -512)),
                        new Case(
                                "L1 table offset unaligned",
                                Reason.MALFORMED,
                                "l1_table_offset",
                                "65537",
                                f -> put64(f, 40, CLUSTER + 1)),
                        new Case(
                                "L1 table offset inside the header",
                                Reason.MALFORMED,
                                "l1_table_offset",
                                "0",
                                f -> put64(f, 40, 0)),
                        new Case(
                                "L1 table past the end of the file",
                                Reason.MALFORMED,
                                "l1_table_offset",
                                "655360",
                                f -> put64(f, 40, 10 * CLUSTER)),
                        new Case(
                                "L1 table cut short by the end of the file",
                                Reason.MALFORMED,
                                "l1_table_offset",
                                "65536",
                                f -> f.truncate(3 * CLUSTER)),
                        new Case(
                                "backing name past the header",
                                Reason.MALFORMED,
                                "backing_filename_offset",
                                "65530",
                                f -> put32(f, 56, 65530)),
                        new Case(
                                "backing name of zero bytes",
                                Reason.MALFORMED,
                                "backing_filename_size",
                                "0",
                                f -> put32(f, 60, 0)),
                        new Case(
                                "backing name too long",
                                Reason.MALFORMED,
                                "backing_filename_size",
                                "5000",
                                f -> put32(f, 60, 5000)),
                        new Case(
                                "backing name not UTF-8",
                                Reason.MALFORMED,
                                "backing file name",
                                "UTF-8",
                                f -> f.write(ByteBuffer.wrap(new byte[] {(byte) 0xff, (byte) 0xfe}), 64)),
                        new Case(
                                "backing name with a NUL",
                                Reason.MALFORMED,
                                "backing file name",
                                "NUL",
                                f -> f.write(ByteBuffer.wrap(new byte[] {0}), 66)))
                .map(Arguments::of);
    }

    private static void put32(FileChannel file, long offset, int value) throws IOException {
        file.write(
                ByteBuffer.allocate(4)
                        .order(ByteOrder.LITTLE_ENDIAN)
                        .putInt(value)
                        .flip(),
                offset);
    }

    private static void put64(FileChannel file, long offset, long value) throws IOException {
        file.write(
                ByteBuffer.allocate(8)
                        .order(ByteOrder.LITTLE_ENDIAN)
                        .putLong(value)
                        .flip(),
                offset);
    }

    private Path validImage() throws IOException {
        Path image = dir.resolve("damaged.qed");
        Formats.byName("qed")
                .create(
                        image,
                        new CreateOptions(
                                4L << 20, Optional.of(new BackingReference("base.qed", Optional.empty())), Map.of()));
        return image;
    }

    private static void damage(Path image, Damage damage) throws IOException {
        try (FileChannel file = FileChannel.open(image, StandardOpenOption.WRITE)) {
            damage.apply(file);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void openRefusesWithFileFieldAndValue(Case c) throws IOException {
        Path image = validImage();
        damage(image, c.damage());
        for (OpenOptions options : new OpenOptions[] {OpenOptions.READ_ONLY, OpenOptions.READ_WRITE}) {
            ImageFormatException e = assertThrows(
                    ImageFormatException.class,
                    () -> ImageChain.openOne(image, Optional.of("qed"), options).close());
            assertEquals(c.reason(), e.reason(), e.getMessage());
            assertEquals(image, e.file());
            assertEquals(c.field(), e.field(), e.getMessage());
            assertTrue(e.getMessage().contains(image.toString()), e.getMessage());
            assertTrue(e.getMessage().contains(c.valueInMessage()), e.getMessage());
        }
    }

    @Test
    void readOnlyImageWithL2TablePastTheEndNamesTheL1Entry() throws IOException {
        Path image = validImage();
        damage(image, f -> put64(f, CLUSTER, 1000 * CLUSTER));
        try (Image qed = ImageChain.openOne(image, Optional.of("qed"), OpenOptions.READ_ONLY)) {
            ImageFormatException e =
                    assertThrows(ImageFormatException.class, () -> qed.read(0, ByteBuffer.allocate(512)));
            assertEquals("L1 table entry 0", e.field());
            assertEquals(image, e.file());
            assertTrue(e.getMessage().contains("65536000"), e.getMessage());
        }
    }

    @Test
    void readOnlyImageWithUnalignedDataClusterNamesTheL2Entry() throws IOException {
        Path image = dir.resolve("data.qed");
        Formats.byName("qed").create(image, CreateOptions.ofSize(4L << 20));
        try (Image qed = ImageChain.openOne(image, Optional.of("qed"), OpenOptions.READ_WRITE)) {
            qed.write(0, ByteBuffer.wrap(new byte[] {1}));
        }
        // layout: header, L1 (4 clusters), data cluster, then the L2 table
        long l2 = 6 * CLUSTER;
        damage(image, f -> put64(f, l2, 5 * CLUSTER + 1));
        try (Image qed = ImageChain.openOne(image, Optional.of("qed"), OpenOptions.READ_ONLY)) {
            ImageFormatException e =
                    assertThrows(ImageFormatException.class, () -> qed.read(0, ByteBuffer.allocate(512)));
            assertEquals("L2 table at " + l2 + " entry 0", e.field());
            assertTrue(e.getMessage().contains(Long.toString(5 * CLUSTER + 1)), e.getMessage());
            assertEquals(Reason.MALFORMED, e.reason());
        }
    }

    @Test
    void qemuRefusesTheSameHeaders() throws Exception {
        // a sample of the cases: QEMU's verdict agrees
        Path image = validImage();
        damage(image, f -> put32(f, 8, 3));
        QemuTools.Result result = QemuTools.run("qemu-img", "info", "-f", "qed", image.toString());
        assertTrue(result.exitCode() != 0, result.toString());
        Files.delete(image);
        image = validImage();
        damage(image, f -> put64(f, 48, 1000));
        result = QemuTools.run("qemu-img", "info", "-f", "qed", image.toString());
        assertTrue(result.exitCode() != 0, result.toString());
    }
}
