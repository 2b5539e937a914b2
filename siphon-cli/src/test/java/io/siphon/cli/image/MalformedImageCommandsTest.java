package io.siphon.cli.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.cli.Cli;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A malformed image gets one line on stderr naming the file, a non-zero status, and no stack trace. */
@Tag("interop")
class MalformedImageCommandsTest {
    @TempDir
    Path dir;

    /** Field offsets in the qcow2 header (QEMU's docs/interop/qcow2.txt). */
    private static final int VERSION = 4;

    private static final int BACKING_FILE_OFFSET = 8;
    private static final int BACKING_FILE_SIZE = 16;
    private static final int CLUSTER_BITS = 20;
    private static final int L1_SIZE = 36;
    private static final int L1_TABLE_OFFSET = 40;
    private static final int INCOMPATIBLE_FEATURES = 72;

    private Path good(String name) throws Exception {
        Path path = dir.resolve(name);
        assertEquals(
                0,
                Cli.qemuImg(dir, "create", "-f", "qcow2", path.toString(), "16M")
                        .status());
        Cli.qemuIo(dir, "qcow2", name, "write -P 0x11 0 1M");
        return path;
    }

    private Path patched(String name, int offset, ByteBuffer value) throws Exception {
        Path path = good(name);
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.WRITE)) {
            channel.write(value.flip(), offset);
        }
        return path;
    }

    @Test
    void everyCommandReportsMalformedImagesInOneLine() throws Exception {
        Map<Path, String> images = new LinkedHashMap<>();
        Path truncated = good("truncated.qcow2");
        try (FileChannel channel = FileChannel.open(truncated, StandardOpenOption.WRITE)) {
            channel.truncate(40);
        }
        images.put(truncated, "truncated header");
        images.put(patched("version.qcow2", VERSION, ByteBuffer.allocate(4).putInt(7)), "version 7");
        images.put(patched("cluster.qcow2", CLUSTER_BITS, ByteBuffer.allocate(4).putInt(40)), "cluster_bits 40");
        images.put(patched("l1size.qcow2", L1_SIZE, ByteBuffer.allocate(4).putInt(0x7fffffff)), "absurd L1 size");
        images.put(
                patched("l1past.qcow2", L1_TABLE_OFFSET, ByteBuffer.allocate(8).putLong(1L << 50)),
                "L1 past the end of the file");
        images.put(
                patched(
                        "feature.qcow2",
                        INCOMPATIBLE_FEATURES,
                        ByteBuffer.allocate(8).putLong(1L << 40)),
                "unknown incompatible feature");
        Path backingName = patched(
                "backingname.qcow2", BACKING_FILE_OFFSET, ByteBuffer.allocate(8).putLong(4096));
        try (FileChannel channel = FileChannel.open(backingName, StandardOpenOption.WRITE)) {
            channel.write(ByteBuffer.allocate(4).putInt(1 << 20).flip(), BACKING_FILE_SIZE);
        }
        images.put(backingName, "over-long backing name");
        Path loop = good("loop.qcow2");
        Cli.Result rebase = Cli.qemuImg(dir, "rebase", "-u", "-b", "loop.qcow2", "-F", "qcow2", loop.toString());
        assertEquals(0, rebase.status(), rebase.toString());
        images.put(loop, "backing loop");
        Path notAnImage = dir.resolve("text.qcow2");
        Files.writeString(notAnImage, "just text\n".repeat(100), StandardCharsets.US_ASCII);
        images.put(notAnImage, "no magic");

        for (Map.Entry<Path, String> image : images.entrySet()) {
            String file = image.getKey().toString();
            for (List<String> command : List.of(
                    List.of("image", "info", "--backing-chain", file),
                    List.of("image", "map", "--output=json", file),
                    List.of("image", "compare", file, file),
                    List.of("image", "rebase", "-b", "", file))) {
                Cli.Result result = Cli.siphon(command.toArray(String[]::new));
                String what = image.getValue() + ": " + command;
                assertNotEquals(0, result.status(), what + " " + result);
                assertEquals(1, result.err().lines().count(), what + " " + result.err());
                assertTrue(result.err().startsWith("siphon: "), what + " " + result.err());
                assertTrue(result.err().contains(image.getKey().getFileName().toString()), what + " " + result.err());
                assertFalse(result.err().contains("internal error"), what + " " + result.err());
            }
        }
    }
}
