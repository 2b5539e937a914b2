package io.siphon.nbd.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.format.ImageChain;
import io.siphon.nbd.client.NbdClient;
import io.siphon.nbd.protocol.ChunkHeader;
import io.siphon.nbd.protocol.ChunkType;
import io.siphon.nbd.protocol.CommandType;
import io.siphon.nbd.protocol.HandshakeFlags;
import io.siphon.nbd.protocol.NbdError;
import io.siphon.nbd.protocol.NbdMagic;
import io.siphon.nbd.protocol.OptionReplyType;
import io.siphon.nbd.protocol.OptionType;
import io.siphon.nbd.testing.RandomDisk;
import io.siphon.nbd.testing.RawPeer;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Clients that break the protocol: each gets the error the spec names or a clean disconnect, the
 * server keeps serving, and a well-behaved client reading all along sees correct data throughout.
 */
class HostileClientTest {
    private static final int SIZE = 4 << 20;

    @TempDir
    Path dir;

    private ImageChain disk;
    private NbdServer server;
    private Path socket;
    private byte[] content;
    private Thread bystander;
    private final AtomicBoolean stop = new AtomicBoolean();
    private final AtomicReference<Throwable> bystanderFailure = new AtomicReference<>();
    private final AtomicLong bystanderReads = new AtomicLong();

    @BeforeEach
    void serve() throws Exception {
        long seed = System.nanoTime();
        content = RandomDisk.content(seed, SIZE);
        disk = RandomDisk.open(dir.resolve("disk.raw"), content);
        socket = dir.resolve("nbd.sock");
        server = NbdServer.builder()
                .export("disk", disk.top(), false)
                .listenUnix(socket)
                .build()
                .start();
        // Another client keeps reading and checking the first megabyte while the attacks run.
        bystander = Thread.ofVirtual().start(() -> {
            try (NbdClient client = NbdClient.connect(server.uri("disk"))) {
                Random random = new Random(seed);
                while (!stop.get()) {
                    int offset = random.nextInt(1 << 20);
                    ByteBuffer buffer = ByteBuffer.allocate(4096);
                    client.read(offset, buffer);
                    byte[] expected = java.util.Arrays.copyOfRange(content, offset, offset + 4096);
                    assertArrayEquals(expected, buffer.array(), "bystander read at " + offset);
                    bystanderReads.incrementAndGet();
                }
            } catch (Throwable t) {
                bystanderFailure.set(t);
            }
        });
    }

    @AfterEach
    void stop() throws Exception {
        stop.set(true);
        if (bystander != null) {
            bystander.join();
        }
        if (server != null) {
            server.close();
        }
        if (disk != null) {
            disk.close();
        }
    }

    /** The server still serves new clients, the bystander is fine, and the data is intact. */
    private void serverIsHealthy() throws Exception {
        try (NbdClient client = NbdClient.connect(server.uri("disk"))) {
            ByteBuffer buffer = ByteBuffer.allocate(SIZE);
            client.read(0, buffer);
            assertArrayEquals(content, buffer.array());
        }
        assertEquals(null, bystanderFailure.get(), "the bystander client failed");
        assertTrue(bystander.isAlive(), "the bystander client stopped");
    }

    @Test
    void garbageInsteadOfClientFlags() throws Exception {
        try (RawPeer peer = RawPeer.connect(socket)) {
            byte[] garbage = new byte[1000];
            new Random(1).nextBytes(garbage);
            garbage[0] = (byte) 0xff; // unknown client flags
            peer.send(garbage);
            assertTrue(peer.closedByServer());
        }
        serverIsHealthy();
    }

    @Test
    void wrongOptionMagic() throws Exception {
        try (RawPeer peer = RawPeer.connect(socket)) {
            peer.clientFlags(HandshakeFlags.CLIENT_FIXED_NEWSTYLE);
            peer.rawOptionHeader(0x1122334455667788L, OptionType.GO, 0);
            assertTrue(peer.closedByServer());
        }
        serverIsHealthy();
    }

    @Test
    void hugeOptionLengthIsRefusedAsTooBig() throws Exception {
        try (RawPeer peer = RawPeer.connect(socket)) {
            peer.clientFlags(HandshakeFlags.CLIENT_FIXED_NEWSTYLE);
            peer.rawOptionHeader(NbdMagic.OPTION, OptionType.GO, -1);
            assertEquals(OptionReplyType.ERR_TOO_BIG, peer.readOptionReply().replyType());
            assertTrue(peer.closedByServer());
        }
        serverIsHealthy();
    }

    @Test
    void malformedOptionsGetErrorsAndTheHandshakeGoesOn() throws Exception {
        try (RawPeer peer = RawPeer.connect(socket)) {
            peer.clientFlags(HandshakeFlags.CLIENT_FIXED_NEWSTYLE);
            // GO whose name length points past its data
            peer.option(
                    OptionType.GO,
                    ByteBuffer.allocate(6).putInt(5000).putShort((short) 0).flip());
            assertEquals(OptionReplyType.ERR_INVALID, peer.readOptionReply().replyType());
            // an option number nobody knows
            peer.option(0x7777, ByteBuffer.allocate(3));
            assertEquals(OptionReplyType.ERR_UNSUP, peer.readOptionReply().replyType());
            // SET_META_CONTEXT before STRUCTURED_REPLY
            peer.option(
                    OptionType.SET_META_CONTEXT,
                    new io.siphon.nbd.protocol.MetaContextRequest("disk", java.util.List.of("base:allocation"))
                            .encode());
            assertEquals(OptionReplyType.ERR_INVALID, peer.readOptionReply().replyType());
            peer.option(OptionType.STARTTLS, ByteBuffer.allocate(0));
            assertEquals(OptionReplyType.ERR_UNSUP, peer.readOptionReply().replyType());
            peer.option(OptionType.ABORT, ByteBuffer.allocate(0));
            assertEquals(OptionReplyType.ACK, peer.readOptionReply().replyType());
            assertTrue(peer.closedByServer());
        }
        serverIsHealthy();
    }

    @Test
    void wrongRequestMagicDisconnects() throws Exception {
        try (RawPeer peer = RawPeer.transmission(socket, "disk", true)) {
            peer.send(ByteBuffer.allocate(28).putInt(0, 0xdeadbeef));
            assertTrue(peer.closedByServer());
        }
        serverIsHealthy();
    }

    @Test
    void truncatedRequestHeaderThenHangUp() throws Exception {
        try (RawPeer peer = RawPeer.transmission(socket, "disk", false)) {
            peer.send(ByteBuffer.allocate(10)
                    .putInt(NbdMagic.REQUEST)
                    .putShort((short) 0)
                    .flip());
        }
        serverIsHealthy();
    }

    @Test
    void disconnectInTheMiddleOfAWritePayloadWritesNothing() throws Exception {
        try (RawPeer peer = RawPeer.transmission(socket, "disk", false)) {
            peer.request(0, CommandType.WRITE.code(), 7, 0, 1 << 20);
            peer.send(new byte[1000]);
        }
        serverIsHealthy(); // includes: the first megabyte still holds the original data
    }

    @Test
    void writeLongerThanTheMaximumGetsEinvalAndADisconnect() throws Exception {
        try (RawPeer peer = RawPeer.transmission(socket, "disk", false)) {
            peer.request(0, CommandType.WRITE.code(), 9, 0, 0xFFFF_FFFFL);
            ByteBuffer reply = peer.readExactly(16);
            assertEquals(NbdMagic.SIMPLE_REPLY, reply.getInt());
            assertEquals(NbdError.EINVAL.code(), reply.getInt());
            assertEquals(9, reply.getLong());
            assertTrue(peer.closedByServer());
        }
        serverIsHealthy();
    }

    @Test
    void oversizedAndOutOfRangeRequestsGetErrorsAndTheConnectionGoesOn() throws Exception {
        try (RawPeer peer = RawPeer.transmission(socket, "disk", true)) {
            peer.request(0, CommandType.READ.code(), 1, 0, 0xFFFF_FFFFL);
            assertErrorChunk(peer, 1, NbdError.EINVAL);
            peer.request(0, CommandType.READ.code(), 2, -4096, 4096); // offset 2^64 - 4096
            assertErrorChunk(peer, 2, NbdError.EINVAL);
            peer.request(0, CommandType.WRITE_ZEROES.code(), 3, SIZE - 10, 4096);
            assertSimple(peer, 3, NbdError.ENOSPC);
            peer.request(0, 99, 4, 0, 0); // unknown command
            assertSimple(peer, 4, NbdError.EINVAL);
            peer.request(0x8000, CommandType.FLUSH.code(), 5, 0, 0); // unknown flag
            assertSimple(peer, 5, NbdError.EINVAL);
            peer.request(0, CommandType.BLOCK_STATUS.code(), 6, 0, 4096); // no context negotiated
            assertErrorChunk(peer, 6, NbdError.EINVAL);
            peer.request(0, CommandType.FLUSH.code(), 7, 0, 0);
            assertSimple(peer, 7, null);
        }
        serverIsHealthy();
    }

    @Test
    void manyPipelinedRequestsThenAnAbruptClose() throws Exception {
        try (RawPeer peer = RawPeer.transmission(socket, "disk", true)) {
            for (int i = 0; i < 500; i++) {
                peer.request(0, CommandType.READ.code(), i, (long) (i % 64) * 65536, 65536);
            }
        }
        serverIsHealthy();
    }

    private static void assertErrorChunk(RawPeer peer, long cookie, NbdError error) throws Exception {
        ByteBuffer header = peer.readExactly(ChunkHeader.BYTES);
        assertEquals(NbdMagic.STRUCTURED_REPLY, header.getInt());
        ChunkHeader chunk = ChunkHeader.decodeAfterMagic(header);
        assertEquals(cookie, chunk.cookie());
        assertEquals(ChunkType.ERROR, chunk.type());
        assertTrue(chunk.isDone());
        ByteBuffer payload = peer.readExactly((int) chunk.lengthBytes());
        assertEquals(error.code(), payload.getInt());
    }

    private static void assertSimple(RawPeer peer, long cookie, NbdError error) throws Exception {
        ByteBuffer reply = peer.readExactly(16);
        assertEquals(NbdMagic.SIMPLE_REPLY, reply.getInt());
        assertEquals(error == null ? 0 : error.code(), reply.getInt());
        assertEquals(cookie, reply.getLong());
    }
}
