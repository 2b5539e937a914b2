package io.siphon.format.crash;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.testing.ImageCrashPoints;
import io.siphon.testing.QemuTools;
import io.siphon.util.CrashPoints;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code amend -o refcount_bits=} killed at every occurrence of every crash point it reaches (the
 * flush stages, the new structures allocated and written, the header write): qemu-img check finds
 * no corruption (leaks allowed), the refcount width is the old or the new one, and the disk and
 * its snapshot read as before, through qemu-img. The widths come from {@code
 * siphon.reliability.refcount-width.bits} (default 8).
 */
class RefcountWidthCrashTest {
    private static final List<String> POINTS = Stream.concat(
                    ImageCrashPoints.QCOW2.stream().filter(p -> !p.equals("qcow2.data.written")),
                    Stream.of("qcow2.refcount_width.allocated", "qcow2.refcount_width.written"))
            .toList();

    @TempDir
    static Path dir;

    private static byte[] disk;
    private static byte[] snapshot;

    /** Data over a backing file, an internal snapshot and compressed clusters, in 4 KiB clusters. */
    @BeforeAll
    static void image() throws Exception {
        Path base = dir.resolve("base.qcow2");
        QemuTools.createQcow2(base, "2M");
        QemuTools.io(base, "qcow2", List.of("write -P 9 0 2M"));
        Path image = dir.resolve("template.qcow2");
        QemuTools.create(image, "qcow2", 2 << 20, "base.qcow2", "qcow2", "cluster_size=4k");
        QemuTools.io(image, "qcow2", List.of("write -P 1 0 256k", "write -c -P 2 512k 64k"));
        QemuTools.ok("qemu-img", "snapshot", "-c", "kept", image.toString());
        QemuTools.io(image, "qcow2", List.of("write -P 3 64k 64k", "write -c -P 4 1M 32k", "write -z 1536k 8k"));
        disk = QemuTools.rawContent(image, dir);
        snapshot = snapshotContent(image);
    }

    private static byte[] snapshotContent(Path image) throws Exception {
        Path raw = dir.resolve("snapshot-" + System.nanoTime() + ".raw");
        QemuTools.ok(
                "qemu-img", "convert", "-U", "-l", "snapshot.name=kept", "-O", "raw", image.toString(), raw.toString());
        try {
            return Files.readAllBytes(raw);
        } finally {
            Files.delete(raw);
        }
    }

    /** 8 by default (narrower; the image's largest refcount is 32); {@code scripts/reliability} adds more. */
    static Stream<String> widths() {
        return Stream.of(System.getProperty("siphon.reliability.refcount-width.bits", "8")
                .split(","));
    }

    @ParameterizedTest
    @MethodSource("widths")
    void aCrashAtAnyPointLeavesTheOldOrTheNewWidthWhole(String bits) throws Exception {
        List<String> reached = new ArrayList<>();
        for (String point : POINTS) {
            for (int at = 1; ; at++) {
                Path image = dir.resolve("amend-" + bits + "-" + point + "-" + at + ".qcow2");
                Files.copy(dir.resolve("template.qcow2"), image);
                int exit = FormatCallChild.run(point, at, "amend", image.toString(), "refcount_bits", bits);
                if (exit == 0) {
                    Files.delete(image);
                    break;
                }
                assertEquals(CrashPoints.EXIT_STATUS, exit, point + "@" + at);
                reached.add(point + "@" + at);
                String tag = bits + " " + point + "@" + at;
                QemuTools.Result check = QemuTools.run("qemu-img", "check", "--output=json", image.toString());
                assertTrue(check.exitCode() == 0 || check.exitCode() == 3, tag + ": " + check);
                assertEquals(0, QemuTools.jsonLong(check.stdout(), "check-errors"), tag + ": " + check.stdout());
                long width = QemuTools.jsonLong(QemuTools.infoJson(image), "refcount-bits");
                assertTrue(Set.of(16L, Long.parseLong(bits)).contains(width), tag + ": " + width);
                assertArrayEquals(disk, QemuTools.rawContent(image, dir), tag);
                assertArrayEquals(snapshot, snapshotContent(image), tag);
                Files.delete(image);
            }
        }
        System.out.println("refcount width " + bits + ": " + reached.size() + " crashes, all clean");
        // the walk reached the switch and the frees after it, not only the flushes before
        assertTrue(reached.contains("qcow2.refcount_width.written@1"), reached.toString());
        assertTrue(reached.contains("qcow2.header.flushed@1"), reached.toString());
        assertTrue(
                reached.stream()
                                .filter(p -> p.startsWith("qcow2.flush.refcount_decrements.after"))
                                .count()
                        >= 2,
                reached.toString());
    }
}
