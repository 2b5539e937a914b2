package io.siphon.format.crash;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.format.ImageChain;
import io.siphon.format.OpenOptions;
import io.siphon.testing.QemuTools;
import io.siphon.util.CrashPoints;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Applying a qcow2 snapshot (snapshot -a) killed at each point of its write order: raised
 * refcounts durable, the L1 table switched, the flush stages around the dropped references. After
 * the crash qemu-img check finds no corruption (leaks allowed), and the disk reads either as it was
 * or as the snapshot, whole, through Siphon and qemu-img alike.
 */
class SnapshotApplyCrashTest {
    @TempDir
    static Path dir;

    private static byte[] before;
    private static byte[] snapshot;

    @BeforeAll
    static void image() throws Exception {
        Path image = dir.resolve("template.qcow2");
        QemuTools.createQcow2(image, "4M", "-o", "cluster_size=4k");
        QemuTools.io(image, "qcow2", List.of("write -P 1 0 1M", "write -P 2 3M 64k"));
        QemuTools.ok("qemu-img", "snapshot", "-c", "kept", image.toString());
        QemuTools.io(image, "qcow2", List.of("write -P 3 512k 1M", "write -z 3M 4k", "discard 2M 1M"));
        before = QemuTools.rawContent(image, dir);
        Path reverted = dir.resolve("reverted.qcow2");
        Files.copy(image, reverted);
        QemuTools.ok("qemu-img", "snapshot", "-a", "kept", reverted.toString());
        snapshot = QemuTools.rawContent(reverted, dir);
    }

    static Stream<Arguments> points() {
        return Stream.of(
                Arguments.of("qcow2.snapshot.apply.raised", 1),
                Arguments.of("qcow2.snapshot.apply.switched", 1),
                Arguments.of("qcow2.flush.refcount_raises.after", 1),
                Arguments.of("qcow2.flush.l1_entries.after", 1),
                Arguments.of("qcow2.flush.refcount_decrements.before", 2),
                Arguments.of("qcow2.flush.refcount_decrements.after", 2),
                Arguments.of("qcow2.flush.l2_tables.after", 3));
    }

    @ParameterizedTest(name = "{0}@{1}")
    @MethodSource("points")
    void aCrashLeavesTheDiskAsItWasOrAsTheSnapshot(String point, int at) throws Exception {
        Path image = dir.resolve("apply-" + point + "-" + at + ".qcow2");
        Files.copy(dir.resolve("template.qcow2"), image);
        int exit = FormatCallChild.run(point, at, "apply", image.toString(), "kept");
        assertTrue(exit == CrashPoints.EXIT_STATUS, point + "@" + at + " was not reached: exit " + exit);

        QemuTools.Result check = QemuTools.run("qemu-img", "check", "--output=json", image.toString());
        assertTrue(check.exitCode() == 0 || check.exitCode() == 3, point + ": " + check);
        assertEquals(0, QemuTools.jsonLong(check.stdout(), "check-errors"), check.stdout());
        byte[] theirs = QemuTools.rawContent(image, dir);
        assertTrue(
                Arrays.equals(theirs, before) || Arrays.equals(theirs, snapshot),
                point + ": neither before nor snapshot");
        try (ImageChain chain = ImageChain.open(image, Optional.empty(), OpenOptions.READ_ONLY)) {
            ByteBuffer ours = ByteBuffer.allocate(theirs.length);
            chain.top().read(0, ours, Set.of());
            assertArrayEquals(theirs, ours.array(), point);
        }
    }
}
