package io.siphon.format.qcow2;

import static io.siphon.testing.QemuTools.assertCheckClean;
import static io.siphon.testing.QemuTools.createQcow2;
import static io.siphon.testing.QemuTools.ok;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.format.CheckReport;
import io.siphon.format.ImageChain;
import io.siphon.format.ImageFormatException;
import io.siphon.format.OpenOptions;
import io.siphon.format.RepairMode;
import io.siphon.testing.QemuTools;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** qcow2 files that qemu-img 7.2 accepts or reports in its own way: Siphon does as it does. */
class Qcow2QemuParityTest {
    @TempDir
    Path dir;

    @Test
    void aVirtualSizeThatIsNotAMultipleOf512RoundsDown() throws Exception {
        Path image = dir.resolve("odd.qcow2");
        createQcow2(image, "1M");
        writeLongAt(image, 24, (1 << 20) + 256);
        assertTrue(ok("qemu-img", "info", image.toString()).contains("virtual size: 1 MiB (1048576 bytes)"));
        try (ImageChain chain = ImageChain.open(image, Optional.empty(), OpenOptions.READ_ONLY)) {
            assertEquals(1 << 20, chain.top().sizeBytes());
        }
    }

    /**
     * qemu-img 7.2 opens such a chain without end (it recurses until memory runs out) and its
     * {@code info --backing-chain} says "creates an infinite loop"; Siphon refuses the chain at once
     * with the loop named, and checks the image on its own.
     */
    @Test
    void aBackingNameThatIsTheImageItselfIsALoopRefusedAtOnce() throws Exception {
        Path image = dir.resolve("self.qcow2");
        createQcow2(image, "1M", "-o", "compat=0.10", "-u", "-b", "selfxxxx.qcow2", "-F", "qcow2");
        try (FileChannel file = FileChannel.open(image, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer field = ByteBuffer.allocate(12);
            file.read(field, 8);
            long nameOffset = field.getLong(0);
            file.write(ByteBuffer.wrap("self.qcow2".getBytes(StandardCharsets.US_ASCII)), nameOffset);
            file.write(ByteBuffer.allocate(4).putInt(0, 10), 16);
        }
        QemuTools.Result chainInfo = QemuTools.run("qemu-img", "info", "--backing-chain", image.toString());
        assertEquals(1, chainInfo.exitCode(), chainInfo.toString());
        assertTrue(chainInfo.stderr().contains("creates an infinite loop"), chainInfo.toString());

        ImageFormatException loop = assertTimeoutPreemptively(
                Duration.ofSeconds(30),
                () -> assertThrows(
                        ImageFormatException.class,
                        () -> ImageChain.open(image, Optional.empty(), OpenOptions.READ_ONLY)));
        assertEquals(ImageFormatException.Reason.BAD_CHAIN, loop.reason());
        assertTrue(loop.getMessage().contains("backing chain loops back to " + image), loop.getMessage());
        try (var alone = ImageChain.openOne(image, Optional.empty(), OpenOptions.READ_ONLY)) {
            assertEquals(0, alone.check(RepairMode.NONE).exitStatus());
        }
    }

    @Test
    void reservedBitsInL2EntriesAreCorruptionsAndRepairAllClearsThem() throws Exception {
        Path image = dir.resolve("reserved.qcow2");
        createQcow2(image, "1M");
        ok("qemu-io", "-c", "write -P 0x61 0 64k", image.toString());
        long l2 = l2TableOffset(image);
        long entry = readLongAt(image, l2);
        writeLongAt(image, l2, entry | 0x2 | (1L << 56));
        QemuTools.Result qemu = QemuTools.run("qemu-img", "check", image.toString());
        assertEquals(2, qemu.exitCode(), qemu.toString());
        assertTrue(qemu.stderr()
                .contains(
                        "ERROR found l2 entry with reserved bits set: " + Long.toHexString(entry | 0x2 | (1L << 56))));

        try (ImageChain chain = ImageChain.open(image, Optional.empty(), OpenOptions.READ_WRITE)) {
            CheckReport found = chain.top().check(RepairMode.NONE);
            assertEquals(2, found.exitStatus(), found.problems().toString());
            assertEquals(1, found.corruptions());
            assertTrue(found.problems()
                    .contains("ERROR found l2 entry with reserved bits set: "
                            + Long.toHexString(entry | 0x2 | (1L << 56))));
            CheckReport repaired = chain.top().check(RepairMode.ALL);
            assertEquals(0, repaired.exitStatus(), repaired.problems().toString());
            assertEquals(1, repaired.corruptionsFixed());
        }
        assertEquals(entry, readLongAt(image, l2));
        assertCheckClean(image);
        ok("qemu-io", "-r", "-c", "read -P 0x61 0 64k", image.toString());
    }

    /**
     * An L1 entry with OFLAG_COPIED and no L2 table reads as unallocated, but qemu-img 7.2 reads the
     * header as its L2 table (dozens of errors, and {@code -r all} fails). Siphon counts one
     * corruption and {@code -r all} clears the entry, after which qemu-img finds the image clean.
     */
    @Test
    void aStrayCopiedFlagOnAnEmptyL1EntryIsOneCorruptionThatRepairAllClears() throws Exception {
        Path image = dir.resolve("stray.qcow2");
        createQcow2(image, "2G");
        ok("qemu-io", "-c", "write -P 0x62 0 64k", image.toString());
        long l1 = readLongAt(image, 40);
        writeLongAt(image, l1 + 8, 1L << 63);
        assertEquals(2, QemuTools.run("qemu-img", "check", image.toString()).exitCode());

        try (ImageChain chain = ImageChain.open(image, Optional.empty(), OpenOptions.READ_WRITE)) {
            CheckReport found = chain.top().check(RepairMode.NONE);
            assertEquals(1, found.corruptions(), found.problems().toString());
            assertTrue(found.problems()
                    .contains("ERROR L1 entry 1 has no L2 table but is not zero: l1_entry=8000000000000000"));
            CheckReport repaired = chain.top().check(RepairMode.ALL);
            assertEquals(0, repaired.exitStatus(), repaired.problems().toString());
            assertEquals(1, repaired.corruptionsFixed());
        }
        assertEquals(0, readLongAt(image, l1 + 8));
        assertCheckClean(image);
        ok("qemu-io", "-r", "-c", "read -P 0x62 0 64k", image.toString());
    }

    /** More clusters than the check can count: the check cannot be done, exit 1 (qemu-img: "File too large"). */
    @Test
    void aFileWithTooManyClustersToCheckIsACheckError() throws Exception {
        Path image = dir.resolve("huge.qcow2");
        createQcow2(image, "1G", "-o", "cluster_size=512");
        try (RandomAccessFile file = new RandomAccessFile(image.toFile(), "rw")) {
            file.setLength(70L << 30); // sparse: 140 M clusters of 512 bytes
        }
        try (ImageChain chain = ImageChain.open(image, Optional.empty(), OpenOptions.READ_ONLY)) {
            CheckReport report = chain.top().check(RepairMode.NONE);
            assertEquals(1, report.exitStatus(), report.problems().toString());
            assertEquals(1, report.checkErrors());
            assertTrue(report.problems().getFirst().startsWith("Check failed: file of " + (70L << 30) + " bytes"));
        }
    }

    private static long l2TableOffset(Path image) throws Exception {
        long l1 = readLongAt(image, 40);
        return readLongAt(image, l1) & 0x00fffffffffffe00L;
    }

    private static long readLongAt(Path image, long offset) throws Exception {
        try (FileChannel file = FileChannel.open(image, StandardOpenOption.READ)) {
            ByteBuffer value = ByteBuffer.allocate(8);
            file.read(value, offset);
            return value.getLong(0);
        }
    }

    private static void writeLongAt(Path image, long offset, long value) throws Exception {
        try (FileChannel file = FileChannel.open(image, StandardOpenOption.WRITE)) {
            file.write(ByteBuffer.allocate(8).putLong(0, value), offset);
        }
    }
}
