package io.siphon.nbd.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.block.BlockDevice;
import io.siphon.block.FastZeroUnsupportedException;
import io.siphon.block.RequestFlag;
import io.siphon.block.filter.FilterBlockDevice;
import io.siphon.format.ImageChain;
import io.siphon.format.OpenOptions;
import io.siphon.nbd.client.NbdClient;
import io.siphon.nbd.client.NbdReplyException;
import io.siphon.nbd.protocol.BlockStatusDescriptor;
import io.siphon.nbd.protocol.CommandFlags;
import io.siphon.nbd.protocol.CommandType;
import io.siphon.nbd.protocol.OptionReplyType;
import io.siphon.testing.FaultyBlockDevice;
import io.siphon.testing.FaultyBlockDevice.Fault;
import io.siphon.testing.FaultyBlockDevice.Op;
import io.siphon.testing.FaultyBlockDevice.Rule;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The server's API as the daemon and the CLI use it, seen through Siphon's own client. */
class NbdServerTest {
    @TempDir
    Path dir;

    private ImageChain a;
    private ImageChain b;

    @BeforeEach
    void images() throws IOException {
        Files.write(dir.resolve("a.raw"), new byte[1 << 20]);
        Files.write(dir.resolve("b.raw"), new byte[2 << 20]);
        a = ImageChain.open(dir.resolve("a.raw"), Optional.of("raw"), OpenOptions.READ_WRITE);
        b = ImageChain.open(dir.resolve("b.raw"), Optional.of("raw"), OpenOptions.READ_WRITE);
    }

    @AfterEach
    void close() throws IOException {
        a.close();
        b.close();
    }

    @Test
    void urisNameEachListener() throws Exception {
        Path socket = dir.resolve("s.sock");
        try (NbdServer server = NbdServer.builder()
                .export("a", a.top(), false)
                .listenUnix(socket)
                .listenTcp("127.0.0.1", 0, Optional.empty())
                .build()
                .start()) {
            assertEquals(
                    List.of("nbd+unix:///a?socket=" + socket, "nbd://127.0.0.1:" + server.tcpPort() + "/a"),
                    server.uris("a"));
            for (String uri : server.uris("a")) {
                try (NbdClient client = NbdClient.connect(uri)) {
                    assertEquals(1 << 20, client.sizeBytes());
                }
            }
        }
        assertFalse(Files.exists(socket), "close removes the socket file");
    }

    @Test
    void exportsComeAndGoWhileClientsAreConnected() throws Exception {
        try (NbdServer server = NbdServer.builder()
                .export("a", a.top(), false)
                .listenUnix(dir.resolve("s.sock"))
                .build()
                .start()) {
            NbdClient first = NbdClient.connect(server.uri("a"));
            // with one export, the empty name is the default export
            try (NbdClient byDefault = NbdClient.connect(server.uri(""))) {
                assertEquals(1 << 20, byDefault.sizeBytes());
            }
            server.addExport("b", b.top(), true);
            assertThrows(IllegalArgumentException.class, () -> server.addExport("b", b.top(), true));
            assertEquals(List.of("a", "b"), server.exportNames());
            try (NbdClient second = NbdClient.connect(server.uri("b"))) {
                assertEquals(2 << 20, second.sizeBytes());
                assertTrue(second.isReadOnly());
            }
            NbdReplyException ambiguous =
                    assertThrows(NbdReplyException.class, () -> NbdClient.connect(server.uri("")));
            assertEquals(OptionReplyType.ERR_UNKNOWN, ambiguous.errorCode());

            assertTrue(server.removeExport("a"));
            assertFalse(server.removeExport("a"));
            assertThrows(IOException.class, () -> first.read(0, ByteBuffer.allocate(512)), "its clients are cut off");
            NbdReplyException gone = assertThrows(NbdReplyException.class, () -> NbdClient.connect(server.uri("a")));
            assertEquals(OptionReplyType.ERR_UNKNOWN, gone.errorCode());
            try (NbdClient still = NbdClient.connect(server.uri("b"))) {
                still.read(0, ByteBuffer.allocate(4096));
            }
        }
    }

    /** Records the flags write-zeroes gets, and refuses NO_FALLBACK as a node without fast zeroes does. */
    private static final class ZeroFlagsRecorder extends FilterBlockDevice {
        final List<Set<RequestFlag>> seen = new java.util.concurrent.CopyOnWriteArrayList<>();

        ZeroFlagsRecorder(BlockDevice next) {
            super(next);
        }

        @Override
        public void writeZeroes(long offsetBytes, long lengthBytes, Set<RequestFlag> flags) throws IOException {
            seen.add(Set.copyOf(flags));
            if (flags.contains(RequestFlag.NO_FALLBACK)) {
                throw new FastZeroUnsupportedException("no fast zeroes here");
            }
            super.writeZeroes(offsetBytes, lengthBytes, flags);
        }
    }

    @Test
    void writeZeroesFlagsMapToTheBlockLayersAndFastZeroFailsWithEnotsup() throws Exception {
        ZeroFlagsRecorder recorder = new ZeroFlagsRecorder(a.top());
        try (NbdServer server = NbdServer.builder()
                        .export("a", recorder, false)
                        .listenUnix(dir.resolve("s.sock"))
                        .build()
                        .start();
                NbdClient client = NbdClient.connect(server.uri("a"))) {
            client.writeZeroes(0, 4096, 0);
            client.writeZeroes(0, 4096, CommandFlags.NO_HOLE | CommandFlags.FUA);
            NbdReplyException slow =
                    assertThrows(NbdReplyException.class, () -> client.writeZeroes(0, 4096, CommandFlags.FAST_ZERO));
            assertEquals("ENOTSUP", slow.errorName());
            assertEquals(
                    List.of(
                            Set.of(RequestFlag.MAY_UNMAP),
                            Set.of(RequestFlag.FUA),
                            Set.of(RequestFlag.MAY_UNMAP, RequestFlag.NO_FALLBACK)),
                    recorder.seen);
        }
    }

    @Test
    void everyCommandThroughSiphonsClient() throws Exception {
        try (NbdServer server = NbdServer.builder()
                        .export("a", a.top(), false)
                        .listenUnix(dir.resolve("s.sock"))
                        .build()
                        .start();
                NbdClient client = NbdClient.connect(server.uri("a"))) {
            assertTrue(client.structuredReplies());
            assertTrue(client.hasAllocationContext());
            assertEquals(WireLimits.MAX_PAYLOAD_BYTES, client.maxBlockBytes());
            byte[] data = new byte[70_000];
            java.util.Arrays.fill(data, (byte) 9);
            client.write(100, ByteBuffer.wrap(data), true);
            client.writeZeroes(200, 10, CommandFlags.NO_HOLE);
            client.trim(500_000, 4096);
            client.flush();
            client.command(CommandType.CACHE, 0, 0, 1 << 20);
            ByteBuffer back = ByteBuffer.allocate(data.length);
            client.read(100, back);
            java.util.Arrays.fill(data, 100, 110, (byte) 0);
            assertArrayEquals(data, back.array());
            // data where written; the rest of this sparse raw file is a hole or data, never claimed zero wrongly
            List<BlockStatusDescriptor> status = client.blockStatus(0, 1 << 20);
            assertEquals(0, status.getFirst().flags());
            assertEquals(
                    1 << 20,
                    status.stream()
                            .mapToLong(BlockStatusDescriptor::lengthBytes)
                            .sum());
            NbdReplyException outside =
                    assertThrows(NbdReplyException.class, () -> client.read((1 << 20) - 1, ByteBuffer.allocate(2)));
            assertEquals("EINVAL", outside.errorName());
            NbdReplyException full =
                    assertThrows(NbdReplyException.class, () -> client.write(1 << 20, ByteBuffer.allocate(1), false));
            assertEquals("ENOSPC", full.errorName());
            // the connection is still good after errors
            client.read(0, ByteBuffer.allocate(1));
        }
    }

    @Test
    void deviceErrorsReachTheClientAsEioAndEnospcAndTheConnectionSurvives() throws Exception {
        FaultyBlockDevice faulty = new FaultyBlockDevice(a.top());
        Rule eio = faulty.inject(Fault.EIO, Set.of(Op.READ), 65536, 4096, 1);
        Rule full = faulty.inject(Fault.ENOSPC, Set.of(Op.WRITE), 0, 1 << 20, 1);
        try (NbdServer server = NbdServer.builder()
                        .export("a", faulty, false)
                        .listenUnix(dir.resolve("s.sock"))
                        .build()
                        .start();
                NbdClient client = NbdClient.connect(server.uri("a"))) {
            NbdReplyException read =
                    assertThrows(NbdReplyException.class, () -> client.read(65536, ByteBuffer.allocate(4096)));
            assertEquals("EIO", read.errorName());
            NbdReplyException write =
                    assertThrows(NbdReplyException.class, () -> client.write(0, ByteBuffer.allocate(512), false));
            assertEquals("ENOSPC", write.errorName());
            assertEquals(1, eio.fired());
            assertEquals(1, full.fired());
            client.write(0, ByteBuffer.wrap(new byte[] {3}), false);
            ByteBuffer back = ByteBuffer.allocate(1);
            client.read(0, back);
            assertEquals(3, back.get(0), "after the faults, requests are served");
        }
    }
}
