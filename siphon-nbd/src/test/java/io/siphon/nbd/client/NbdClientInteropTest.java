package io.siphon.nbd.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.nbd.protocol.BlockStatusDescriptor;
import io.siphon.nbd.protocol.CommandFlags;
import io.siphon.nbd.protocol.MetaContexts;
import io.siphon.nbd.testing.RandomDisk;
import io.siphon.testing.QemuTools;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Siphon's NBD client against QEMU's and nbdkit's servers. */
@Tag("interop")
class NbdClientInteropTest {
    @TempDir
    Path dir;

    private Process peer;

    @AfterEach
    void stopPeer() throws Exception {
        if (peer != null) {
            peer.destroy();
            peer.waitFor();
        }
    }

    private String startQemuNbd(Path image, String format, boolean readOnly) throws Exception {
        QemuTools.require("qemu-nbd");
        Path socket = dir.resolve("qemu.sock");
        List<String> command = new java.util.ArrayList<>(
                List.of("qemu-nbd", "-t", "-k", socket.toString(), "-x", "disk", "-f", format));
        if (readOnly) {
            command.add("-r");
        }
        command.add(image.toString());
        peer = QemuTools.start(command, dir.resolve("qemu-nbd.log"));
        QemuTools.awaitSocket(socket, peer);
        return "nbd+unix:///disk?socket=" + socket;
    }

    @Test
    void readsWritesAndFlushesAgainstQemuNbd() throws Exception {
        long seed = System.nanoTime();
        System.out.println("seed " + seed);
        Path image = dir.resolve("disk.qcow2");
        QemuTools.ok("qemu-img", "create", "-f", "qcow2", image.toString(), "8M");
        QemuTools.ok("qemu-io", "-f", "qcow2", "-c", "write -P 0x44 1M 1M", image.toString());
        String uri = startQemuNbd(image, "qcow2", false);
        byte[] data = new byte[300_000];
        new Random(seed).nextBytes(data);
        try (NbdClient client = NbdClient.connect(uri)) {
            assertEquals(8 << 20, client.sizeBytes());
            assertTrue(client.structuredReplies());
            assertTrue(client.hasAllocationContext());
            ByteBuffer pattern = ByteBuffer.allocate(1 << 20);
            client.read(1 << 20, pattern);
            for (int i = 0; i < pattern.capacity(); i++) {
                assertEquals(0x44, pattern.get(i));
            }
            client.write(3_000_001, ByteBuffer.wrap(data), true);
            client.flush();
            ByteBuffer back = ByteBuffer.allocate(data.length);
            client.read(3_000_001, back);
            assertArrayEquals(data, back.array());
            client.writeZeroes(1 << 20, 4096, CommandFlags.NO_HOLE);
            // base:allocation as QEMU reports it: the written megabyte is data, the start a hole
            List<BlockStatusDescriptor> status = client.blockStatus(0, 8 << 20);
            assertEquals(
                    MetaContexts.STATE_HOLE | MetaContexts.STATE_ZERO,
                    status.getFirst().flags());
            assertEquals(1 << 20, status.getFirst().lengthBytes());
            assertEquals(0, status.get(1).flags() & MetaContexts.STATE_HOLE);
        }
        stopPeer();
        peer = null;
        String verified = QemuTools.ok(
                "qemu-io", "-f", "qcow2", "-c", "read -P 0 1M 4k", "-c", "read -P 0x44 1052672 4k", image.toString());
        assertFalse(verified.contains("verification failed"), verified);
    }

    @Test
    void readOnlyQemuNbdRefusesWrites() throws Exception {
        Path image = dir.resolve("disk.raw");
        Files.write(image, new byte[1 << 20]);
        try (NbdClient client = NbdClient.connect(startQemuNbd(image, "raw", true))) {
            assertTrue(client.isReadOnly());
            NbdReplyException refused =
                    assertThrows(NbdReplyException.class, () -> client.write(0, ByteBuffer.allocate(512), false));
            // the spec asks for EPERM; qemu-nbd 7.2 answers EINVAL (it checks the flags first)
            assertTrue(List.of("EPERM", "EINVAL").contains(refused.errorName()), refused.getMessage());
        }
    }

    @Test
    void readsWritesAndStatusAgainstNbdkitMemory() throws Exception {
        QemuTools.require("nbdkit");
        Path socket = dir.resolve("nbdkit.sock");
        peer = QemuTools.start(
                List.of("nbdkit", "-f", "-U", socket.toString(), "memory", "16M"), dir.resolve("nbdkit.log"));
        QemuTools.awaitSocket(socket, peer);
        byte[] data = RandomDisk.content(System.nanoTime(), 1 << 20);
        try (NbdClient client = NbdClient.connect("nbd+unix:///?socket=" + socket)) {
            assertEquals(16 << 20, client.sizeBytes());
            client.write(4 << 20, ByteBuffer.wrap(data), false);
            ByteBuffer back = ByteBuffer.allocate(data.length);
            client.read(4 << 20, back);
            assertArrayEquals(data, back.array());
            ByteBuffer zeroes = ByteBuffer.allocate(1 << 20);
            client.read(0, zeroes); // nbdkit answers unwritten memory with a hole chunk
            assertArrayEquals(new byte[1 << 20], zeroes.array());
            List<BlockStatusDescriptor> status = client.blockStatus(0, 16 << 20);
            long covered = status.stream()
                    .mapToLong(BlockStatusDescriptor::lengthBytes)
                    .sum();
            assertTrue(covered > 0 && covered <= 16 << 20);
            assertEquals(
                    MetaContexts.STATE_HOLE | MetaContexts.STATE_ZERO,
                    status.getFirst().flags());
            client.trim(4 << 20, 1 << 20);
            client.flush();
        }
    }
}
