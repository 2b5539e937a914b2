package io.siphon.format.qed;

import static io.siphon.testing.QemuTools.ok;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.format.CheckReport;
import io.siphon.format.Image;
import io.siphon.format.ImageChain;
import io.siphon.format.OpenOptions;
import io.siphon.format.RepairMode;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** QED files that qemu-img 7.2 accepts and reads: Siphon accepts and reads them the same way. */
class QedQemuParityTest {
    private static final int KIB64 = 64 << 10;

    @TempDir
    Path dir;

    /** QEMU counts the file's length in whole sectors, rounded up, so the last cluster is still there. */
    @Test
    void aFileOneByteShortOfItsLastClusterChecksCleanAndReads() throws Exception {
        Path image = dir.resolve("short.qed");
        ok("qemu-img", "create", "-q", "-f", "qed", image.toString(), "1M");
        ok("qemu-io", "-c", "write -P 0x5a 0 64k", image.toString());
        try (RandomAccessFile file = new RandomAccessFile(image.toFile(), "rw")) {
            file.setLength(file.length() - 1);
        }
        assertTrue(ok("qemu-img", "check", image.toString()).contains("No errors were found"));
        ok("qemu-io", "-r", "-c", "read -P 0x5a 0 64k", image.toString());

        try (ImageChain chain = ImageChain.open(image, Optional.empty(), OpenOptions.READ_ONLY)) {
            CheckReport report = chain.top().check(RepairMode.NONE);
            assertEquals(
                    0,
                    report.corruptions() + report.checkErrors(),
                    report.problems().toString());
            ByteBuffer data = ByteBuffer.allocate(KIB64);
            chain.top().read(0, data, Set.of());
            byte[] expected = new byte[KIB64];
            Arrays.fill(expected, (byte) 0x5a);
            assertArrayEquals(expected, data.array());
        }
        // a write after it lands after the last cluster, and qemu-img still agrees
        try (ImageChain chain = ImageChain.open(image, Optional.empty(), OpenOptions.READ_WRITE)) {
            chain.top().write(512 << 10, ByteBuffer.wrap(new byte[KIB64]).put(0, (byte) 7), Set.of());
            chain.top().flush();
        }
        assertTrue(ok("qemu-img", "check", image.toString()).contains("No errors were found"));
        ok("qemu-io", "-r", "-c", "read -P 0x5a 0 64k", "-c", "read -P 7 512k 1", image.toString());
    }

    /** QEMU reads the backing name as a C string: NUL padding ends it, and a name of only NULs is none. */
    @Test
    void aBackingNamePaddedWithNulsNamesTheFileBeforeThem() throws Exception {
        Path base = dir.resolve("base.img");
        Files.write(base, filled(1 << 20, (byte) 0x33));
        Path image = dir.resolve("padded.qed");
        ok("qemu-img", "create", "-q", "-f", "qed", "-b", "base.img", "-F", "raw", image.toString(), "1M");
        padBackingName(image, 8);
        assertTrue(ok("qemu-img", "info", image.toString()).contains("backing file: base.img (actual path"));
        ok("qemu-io", "-r", "-c", "read -P 0x33 0 4k", image.toString());
        try (ImageChain chain = ImageChain.open(image, Optional.empty(), OpenOptions.READ_ONLY)) {
            assertEquals(
                    "base.img", chain.top().backingReference().orElseThrow().name());
            assertEquals(2, chain.images().size());
            ByteBuffer data = ByteBuffer.allocate(4096);
            chain.top().read(0, data, Set.of());
            assertArrayEquals(filled(4096, (byte) 0x33), data.array());
        }
    }

    @Test
    void aBackingNameOfOnlyNulsIsNoBackingFile() throws Exception {
        Path image = dir.resolve("blank.qed");
        ok("qemu-img", "create", "-q", "-f", "qed", "-u", "-b", "base.img", "-F", "raw", image.toString(), "1M");
        padBackingName(image, 0);
        blankBackingName(image);
        assertTrue(!ok("qemu-img", "info", image.toString()).contains("backing file:"));
        try (ImageChain chain = ImageChain.open(image, Optional.empty(), OpenOptions.READ_ONLY)) {
            Image top = chain.top();
            assertEquals(Optional.empty(), top.backingReference());
            ByteBuffer data = ByteBuffer.allocate(4096);
            top.read(0, data, Set.of());
            assertArrayEquals(new byte[4096], data.array());
        }
    }

    private static byte[] filled(int n, byte value) {
        byte[] bytes = new byte[n];
        Arrays.fill(bytes, value);
        return bytes;
    }

    /** Grows the header's backing_filename_size by {@code extra} NUL bytes after the name. */
    private static void padBackingName(Path image, int extra) throws Exception {
        try (FileChannel file = FileChannel.open(image, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer header = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
            file.read(header, 0);
            int offset = header.getInt(56);
            int size = header.getInt(60);
            file.write(ByteBuffer.allocate(extra), offset + size);
            file.write(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(0, size + extra), 60);
        }
    }

    private static void blankBackingName(Path image) throws Exception {
        try (FileChannel file = FileChannel.open(image, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer header = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
            file.read(header, 0);
            file.write(ByteBuffer.allocate(header.getInt(60)), header.getInt(56));
        }
    }
}
