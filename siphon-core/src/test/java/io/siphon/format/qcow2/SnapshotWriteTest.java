package io.siphon.format.qcow2;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import io.siphon.format.Formats;
import io.siphon.format.Image;
import io.siphon.format.ImageChain;
import io.siphon.format.OpenOptions;
import io.siphon.testing.QemuTools;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Guest writes into a qcow2 image with internal snapshots, against qemu-img: shared data clusters
 * and shared L2 tables are copied before they change, so the snapshots read exactly what they held,
 * the active disk reads what was written, and qemu-img check finds no leak and no flag error.
 */
class SnapshotWriteTest {
    private static final int SIZE = 4 << 20;

    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"cluster_size=4k", "cluster_size=16k,extended_l2=on", "cluster_size=64k,compat=0.10"})
    void writesLeaveEverySnapshotAsItWas(String options) throws Exception {
        Path image = dir.resolve("snap.qcow2");
        QemuTools.createQcow2(image, "4M", "-o", options);
        QemuTools.io(
                image,
                "qcow2",
                List.of("write -P 1 0 1M", "write -P 2 1536k 1M", "write -c -P 5 3M 64k", "write -z 3200k 64k"));
        QemuTools.ok("qemu-img", "snapshot", "-c", "first", image.toString());
        byte[] first = QemuTools.rawContent(image, dir);
        byte[] expected = first.clone();

        try (Image opened = ImageChain.openOne(image, Optional.empty(), OpenOptions.READ_WRITE)) {
            write(opened, expected, 0x200, 1000, 7); // part of a shared cluster
            write(opened, expected, 256 << 10, 64 << 10, 8); // whole shared clusters
            write(opened, expected, (2 << 20) - 2048, 4096, 9); // across two shared L2 tables (4k clusters)
            write(opened, expected, (3 << 20) + 100, 10, 10); // into a compressed cluster
            opened.writeZeroes(512 << 10, 64 << 10, Set.of());
            Arrays.fill(expected, 512 << 10, 576 << 10, (byte) 0);
            opened.discard(1600 << 10, 128 << 10);
            Arrays.fill(expected, 1600 << 10, 1728 << 10, (byte) 0); // v3 zero flag; v2 unallocated, no backing
            opened.flush();
        }
        QemuTools.assertCheckClean(image);
        assertArrayEquals(expected, QemuTools.rawContent(image, dir), "active disk");
        QemuTools.ok("qemu-io", "-f", "qcow2", "-c", "read -P 8 256k 64k", "-c", "read -P 1 0 512", image.toString());
        assertArrayEquals(first, snapshotContent(image, "first"), "snapshot first");

        // a second snapshot, taken by Siphon, shares clusters with the first and the active disk
        Formats.byName("qcow2").createSnapshot(image, "second");
        byte[] second = expected.clone();
        try (Image opened = ImageChain.openOne(image, Optional.empty(), OpenOptions.READ_WRITE)) {
            write(opened, expected, 100, 300 << 10, 11);
            opened.discard(0, 64 << 10);
            Arrays.fill(expected, 0, 64 << 10, (byte) 0);
            opened.flush();
        }
        QemuTools.assertCheckClean(image);
        assertArrayEquals(expected, QemuTools.rawContent(image, dir), "active disk after the second snapshot");
        assertArrayEquals(first, snapshotContent(image, "first"), "snapshot first after the second");
        assertArrayEquals(second, snapshotContent(image, "second"), "snapshot second");

        Path reverted = dir.resolve("reverted.qcow2");
        Files.copy(image, reverted);
        QemuTools.ok("qemu-img", "snapshot", "-a", "first", reverted.toString());
        QemuTools.assertCheckClean(reverted);
        assertArrayEquals(first, QemuTools.rawContent(reverted, dir), "reverted to first");
        QemuTools.ok("qemu-img", "snapshot", "-d", "second", image.toString());
        QemuTools.assertCheckClean(image);
        assertArrayEquals(expected, QemuTools.rawContent(image, dir), "active disk after deleting second");
    }

    private static void write(Image image, byte[] expected, int offset, int length, int pattern) throws Exception {
        byte[] data = new byte[length];
        Arrays.fill(data, (byte) pattern);
        image.write(offset, ByteBuffer.wrap(data), Set.of());
        System.arraycopy(data, 0, expected, offset, length);
    }

    private byte[] snapshotContent(Path image, String name) throws Exception {
        Path raw = dir.resolve("snapshot-" + name + "-" + System.nanoTime() + ".raw");
        QemuTools.ok(
                "qemu-img",
                "convert",
                "-U",
                "-l",
                "snapshot.name=" + name,
                "-O",
                "raw",
                image.toString(),
                raw.toString());
        return Files.readAllBytes(raw);
    }
}
