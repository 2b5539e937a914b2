package io.siphon.format.crash;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.format.Image;
import io.siphon.format.ImageChain;
import io.siphon.format.OpenOptions;
import io.siphon.testing.ImageCrashPoints;
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
 * Guest writes into a qcow2 image with an internal snapshot (copy-on-write of shared clusters and
 * shared L2 tables) killed at each point of the write order. After the crash qemu-img check finds
 * no corruption (leaks allowed), the snapshot reads exactly as before, and every written range of
 * the active disk reads either as it was or as written.
 */
class SnapshotWriteCrashTest {
    private static final int ZEROES = -1;
    private static final int DISCARD = -2;

    /** One guest request: {@code pattern} bytes, or {@link #ZEROES} / {@link #DISCARD}. */
    private record Request(long offset, int length, int pattern) {}

    /** Disjoint ranges; 4 KiB clusters, so 2 MiB is where the second L2 table starts. */
    private static final List<Request> REQUESTS = List.of(
            new Request(0x200, 1000, 7), // part of a shared cluster
            new Request(256 << 10, 64 << 10, 8), // whole shared clusters
            new Request((2 << 20) - 2048, 4096, 9), // across both shared L2 tables
            new Request(512 << 10, 64 << 10, ZEROES),
            new Request(2560 << 10, 128 << 10, DISCARD));

    @TempDir
    static Path dir;

    private static byte[] before;

    @BeforeAll
    static void image() throws Exception {
        Path image = dir.resolve("template.qcow2");
        QemuTools.createQcow2(image, "4M", "-o", "cluster_size=4k");
        QemuTools.io(image, "qcow2", List.of("write -P 1 0 3M"));
        QemuTools.ok("qemu-img", "snapshot", "-c", "kept", image.toString());
        before = QemuTools.rawContent(image, dir);
    }

    /** The child's side: every request, then a flush. */
    static void writeAll(Path path) throws Exception {
        try (Image image = ImageChain.openOne(path, Optional.empty(), OpenOptions.READ_WRITE)) {
            for (Request r : REQUESTS) {
                switch (r.pattern()) {
                    case ZEROES -> image.writeZeroes(r.offset(), r.length(), Set.of());
                    case DISCARD -> image.discard(r.offset(), r.length());
                    default -> image.write(r.offset(), ByteBuffer.wrap(bytes(r)), Set.of());
                }
            }
            image.flush();
        }
    }

    private static byte[] bytes(Request r) {
        byte[] data = new byte[r.length()];
        Arrays.fill(data, r.pattern() < 0 ? 0 : (byte) r.pattern());
        return data;
    }

    /** Every data and flush-stage point of the qcow2 write order, and a later data write. */
    static Stream<Arguments> points() {
        Stream<Arguments> once = ImageCrashPoints.QCOW2.stream()
                .filter(p -> !p.startsWith("qcow2.header")) // these writes change no header
                .map(p -> Arguments.of(p, 1));
        return Stream.concat(once, Stream.of(Arguments.of("qcow2.data.written", 3)));
    }

    @ParameterizedTest(name = "{0}@{1}")
    @MethodSource("points")
    void aCrashLeavesTheSnapshotAsItWasAndEachWriteWholeOrNot(String point, int at) throws Exception {
        Path image = dir.resolve("write-" + point + "-" + at + ".qcow2");
        Files.copy(dir.resolve("template.qcow2"), image);
        int exit = FormatCallChild.run(point, at, "write", image.toString());
        assertTrue(exit == CrashPoints.EXIT_STATUS, point + "@" + at + " was not reached: exit " + exit);

        QemuTools.Result check = QemuTools.run("qemu-img", "check", "--output=json", image.toString());
        assertTrue(check.exitCode() == 0 || check.exitCode() == 3, point + ": " + check);
        assertEquals(0, QemuTools.jsonLong(check.stdout(), "check-errors"), check.stdout());
        Path snapshot = dir.resolve("snapshot-" + point + "-" + at + ".raw");
        QemuTools.ok(
                "qemu-img", "convert", "-l", "snapshot.name=kept", "-O", "raw", image.toString(), snapshot.toString());
        assertArrayEquals(before, Files.readAllBytes(snapshot), point + ": the snapshot");
        byte[] active = QemuTools.rawContent(image, dir);
        for (Request r : REQUESTS) {
            int from = (int) r.offset();
            byte[] now = Arrays.copyOfRange(active, from, from + r.length());
            byte[] old = Arrays.copyOfRange(before, from, from + r.length());
            assertTrue(Arrays.equals(now, old) || Arrays.equals(now, bytes(r)), point + ": " + r + " torn");
        }
    }
}
