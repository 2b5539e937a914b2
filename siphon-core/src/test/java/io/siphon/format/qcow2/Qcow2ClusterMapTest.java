package io.siphon.format.qcow2;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.siphon.format.ImageFile;
import io.siphon.format.OpenOptions;
import io.siphon.testing.QemuTools;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The cluster map on its own, over the metadata of a qemu-img image, with no image above it. */
class Qcow2ClusterMapTest {
    private static final int CLUSTER = 64 << 10;

    @TempDir
    Path dir;

    @Test
    void aPartialWriteTakesTheRestOfItsClusterFromTheReaderItIsHanded() throws Exception {
        Path image = dir.resolve("map.qcow2");
        QemuTools.createQcow2(image, "1M");
        List<long[]> asked = new ArrayList<>();
        try (ImageFile file = ImageFile.open(image, OpenOptions.READ_WRITE)) {
            Qcow2Metadata metadata = new Qcow2Metadata(file, Qcow2Header.read(file));
            Qcow2ClusterMap map = new Qcow2ClusterMap(metadata, 1 << 20, (offset, dst) -> {
                asked.add(new long[] {offset, dst.remaining()});
                while (dst.hasRemaining()) {
                    dst.put((byte) 0x5a);
                }
            });
            byte[] written = new byte[512];
            Arrays.fill(written, (byte) 0x11);
            map.write(CLUSTER + 1024, ByteBuffer.wrap(written));
            metadata.flush();
        }

        assertEquals(1, asked.size(), "old-content reads");
        assertArrayEquals(new long[] {CLUSTER, CLUSTER}, asked.getFirst());
        QemuTools.assertCheckClean(image);
        Path raw = dir.resolve("map.raw");
        QemuTools.ok("qemu-img", "convert", "-U", "-f", "qcow2", "-O", "raw", image.toString(), raw.toString());
        byte[] expected = new byte[1 << 20];
        Arrays.fill(expected, CLUSTER, 2 * CLUSTER, (byte) 0x5a);
        Arrays.fill(expected, CLUSTER + 1024, CLUSTER + 1536, (byte) 0x11);
        assertArrayEquals(expected, Files.readAllBytes(raw));
    }
}
