package io.siphon.nbd.testing;

import io.siphon.nbd.protocol.ExportRequest;
import io.siphon.nbd.protocol.HandshakeFlags;
import io.siphon.nbd.protocol.OptionHeader;
import io.siphon.nbd.protocol.OptionReplyHeader;
import io.siphon.nbd.protocol.OptionReplyType;
import io.siphon.nbd.protocol.OptionType;
import io.siphon.nbd.protocol.Request;
import java.io.EOFException;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** A hand-driven NBD peer that can send anything, for tests of what the server does with it. */
public final class RawPeer implements AutoCloseable {
    private final SocketChannel socket;

    private RawPeer(SocketChannel socket) {
        this.socket = socket;
    }

    /** Connects and reads the 18-byte greeting. */
    public static RawPeer connect(Path unixSocket) throws IOException {
        SocketChannel socket = SocketChannel.open(StandardProtocolFamily.UNIX);
        socket.connect(UnixDomainSocketAddress.of(unixSocket));
        RawPeer peer = new RawPeer(socket);
        peer.readExactly(18);
        return peer;
    }

    /** Connects and negotiates {@code exportName} with GO (and structured replies if asked). */
    public static RawPeer transmission(Path unixSocket, String exportName, boolean structured) throws IOException {
        RawPeer peer = connect(unixSocket);
        peer.clientFlags(HandshakeFlags.CLIENT_FIXED_NEWSTYLE | HandshakeFlags.CLIENT_NO_ZEROES);
        if (structured) {
            peer.option(OptionType.STRUCTURED_REPLY, ByteBuffer.allocate(0));
            peer.expectReply(OptionReplyType.ACK);
        }
        peer.option(OptionType.GO, new ExportRequest(exportName, List.of()).encode());
        while (peer.readOptionReply().replyType() != OptionReplyType.ACK) {
            // INFO replies
        }
        return peer;
    }

    public void send(ByteBuffer... buffers) throws IOException {
        for (ByteBuffer buffer : buffers) {
            while (buffer.hasRemaining()) {
                socket.write(buffer);
            }
        }
    }

    public void send(byte[] bytes) throws IOException {
        send(ByteBuffer.wrap(bytes));
    }

    /** Sends the 32-bit client flags that answer the greeting. */
    public void clientFlags(int flags) throws IOException {
        send(ByteBuffer.allocate(4).putInt(flags).flip());
    }

    /** Sends an option header with any magic and declared length, for headers a real client never sends. */
    public void rawOptionHeader(long magic, int option, int length) throws IOException {
        send(ByteBuffer.allocate(16)
                .putLong(magic)
                .putInt(option)
                .putInt(length)
                .flip());
    }

    public void option(int option, ByteBuffer data) throws IOException {
        ByteBuffer header = ByteBuffer.allocate(OptionHeader.BYTES);
        new OptionHeader(option, data.remaining()).encode(header);
        send(header.flip(), data);
    }

    public OptionReplyHeader readOptionReply() throws IOException {
        OptionReplyHeader header = OptionReplyHeader.decode(readExactly(OptionReplyHeader.BYTES));
        readExactly((int) header.lengthBytes());
        return header;
    }

    public void expectReply(int type) throws IOException {
        OptionReplyHeader reply = readOptionReply();
        if (reply.replyType() != type) {
            throw new IOException("expected reply type " + type + ", got " + reply);
        }
    }

    public void request(int flags, int type, long cookie, long offset, long length) throws IOException {
        ByteBuffer header = ByteBuffer.allocate(Request.BYTES);
        new Request(flags, type, cookie, offset, length).encode(header);
        send(header.flip());
    }

    /** Reads exactly {@code n} bytes, failing after ten seconds rather than hanging the test. */
    public ByteBuffer readExactly(int n) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(n);
        withTimeout(() -> {
            while (buffer.hasRemaining()) {
                if (socket.read(buffer) < 0) {
                    throw new EOFException("server closed the connection");
                }
            }
            return null;
        });
        return buffer.flip();
    }

    /** Whether the server closes the connection (reads reach end of stream) within ten seconds. */
    public boolean closedByServer() throws IOException {
        ByteBuffer sink = ByteBuffer.allocate(65536);
        return withTimeout(() -> {
            while (true) {
                sink.clear();
                try {
                    if (socket.read(sink) < 0) {
                        return true;
                    }
                } catch (IOException e) {
                    return true; // connection reset
                }
            }
        });
    }

    private interface Io<T> {
        T run() throws IOException;
    }

    private static <T> T withTimeout(Io<T> io) throws IOException {
        try (var executor = Executors.newVirtualThreadPerTaskExecutor()) {
            Future<T> future = executor.submit(io::run);
            try {
                return future.get(10, TimeUnit.SECONDS);
            } catch (TimeoutException e) {
                future.cancel(true);
                throw new IOException("server neither answered nor closed in 10 s");
            } catch (ExecutionException e) {
                if (e.getCause() instanceof IOException io2) {
                    throw io2;
                }
                throw new IOException(e.getCause());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException(e);
            }
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
