package io.siphon.nbd.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.nbd.protocol.ChunkType;
import io.siphon.nbd.protocol.HandshakeFlags;
import io.siphon.nbd.protocol.NbdMagic;
import io.siphon.nbd.protocol.NbdProtocolException;
import io.siphon.nbd.protocol.OptionReplyType;
import io.siphon.nbd.protocol.OptionType;
import io.siphon.nbd.protocol.Request;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A server whose structured reply to a READ leaves part of it out (as Siphon's own server did for a
 * read its device did not fill, before the fault-injection tests found it): the client refuses the
 * reply rather than hand back the buffer's stale bytes as data, which a pull over an NBD template
 * would have copied into the top. A reply that covers the read in pieces is taken.
 */
class NbdClientShortReplyTest {
    private static final int SIZE = 1 << 20;

    @TempDir
    Path dir;

    @Test
    void aReadReplyThatLeavesAGapIsAnError() throws Exception {
        Path socket = dir.resolve("fake.sock");
        try (ServerSocketChannel listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            listener.bind(UnixDomainSocketAddress.of(socket));
            Thread server = Thread.ofVirtual().start(() -> serve(listener));
            try (NbdClient client = NbdClient.connect("nbd+unix:///x?socket=" + socket)) {
                ByteBuffer gap = ByteBuffer.allocate(8192);
                Arrays.fill(gap.array(), (byte) 0x77); // stale bytes the gap would leave
                NbdProtocolException e = assertThrows(NbdProtocolException.class, () -> client.read(0, gap));
                assertTrue(e.getMessage().contains("covers only its first 4096 bytes"), e.getMessage());
                ByteBuffer pieces = ByteBuffer.allocate(8192);
                client.read(0, pieces);
                byte[] expected = new byte[8192];
                Arrays.fill(expected, 0, 4096, (byte) 0x11);
                assertArrayEquals(expected, pieces.array(), "data then a hole, in two chunks");
            }
            server.join();
        }
    }

    /** Handshakes as a structured-reply server, then answers the first READ with half of it and the second whole. */
    private static void serve(ServerSocketChannel listener) {
        try (SocketChannel peer = listener.accept()) {
            send(
                    peer,
                    ByteBuffer.allocate(18)
                            .putLong(NbdMagic.INIT)
                            .putLong(NbdMagic.OPTION)
                            .putShort((short) (HandshakeFlags.FIXED_NEWSTYLE | HandshakeFlags.NO_ZEROES)));
            read(peer, 4); // client flags
            while (true) {
                ByteBuffer header = read(peer, 16);
                int option = header.getInt(8);
                read(peer, header.getInt(12));
                if (option == OptionType.GO) {
                    ByteBuffer info = ByteBuffer.allocate(12)
                            .putShort((short) 0)
                            .putLong(SIZE)
                            .putShort((short) 1);
                    optionReply(peer, option, OptionReplyType.INFO, info.array());
                    optionReply(peer, option, OptionReplyType.ACK, new byte[0]);
                    break;
                }
                int type = option == OptionType.STRUCTURED_REPLY ? OptionReplyType.ACK : OptionReplyType.ERR_UNSUP;
                optionReply(peer, option, type, new byte[0]);
            }
            long first = read(peer, Request.BYTES).getLong(8);
            byte[] half = new byte[4096];
            Arrays.fill(half, (byte) 0x11);
            chunk(
                    peer,
                    first,
                    ChunkType.FLAG_DONE,
                    ChunkType.OFFSET_DATA,
                    ByteBuffer.allocate(8 + 4096).putLong(0).put(half));
            long second = read(peer, Request.BYTES).getLong(8);
            chunk(
                    peer,
                    second,
                    0,
                    ChunkType.OFFSET_DATA,
                    ByteBuffer.allocate(8 + 4096).putLong(0).put(half));
            chunk(
                    peer,
                    second,
                    ChunkType.FLAG_DONE,
                    ChunkType.OFFSET_HOLE,
                    ByteBuffer.allocate(12).putLong(4096).putInt(4096));
            read(peer, Request.BYTES); // DISC
        } catch (IOException e) {
            throw new IllegalStateException("the fake server failed", e);
        }
    }

    private static void optionReply(SocketChannel peer, int option, int type, byte[] data) throws IOException {
        send(
                peer,
                ByteBuffer.allocate(20 + data.length)
                        .putLong(NbdMagic.OPTION_REPLY)
                        .putInt(option)
                        .putInt(type)
                        .putInt(data.length)
                        .put(data));
    }

    private static void chunk(SocketChannel peer, long cookie, int flags, int type, ByteBuffer payload)
            throws IOException {
        payload.flip();
        send(
                peer,
                ByteBuffer.allocate(20 + payload.remaining())
                        .putInt(NbdMagic.STRUCTURED_REPLY)
                        .putShort((short) flags)
                        .putShort((short) type)
                        .putLong(cookie)
                        .putInt(payload.remaining())
                        .put(payload));
    }

    private static void send(SocketChannel peer, ByteBuffer buffer) throws IOException {
        buffer.flip();
        while (buffer.hasRemaining()) {
            peer.write(buffer);
        }
    }

    private static ByteBuffer read(SocketChannel peer, int n) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(n);
        while (buffer.hasRemaining()) {
            if (peer.read(buffer) < 0) {
                throw new IOException("client hung up");
            }
        }
        return buffer.flip();
    }
}
