package io.siphon.nbd.protocol;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

/** NBD over a socket without encryption; reads never read ahead, so STARTTLS can take over the socket. */
final class PlainChannel implements NbdChannel {
    private final SocketChannel socket;

    PlainChannel(SocketChannel socket) {
        this.socket = socket;
    }

    @Override
    public void readFully(ByteBuffer dst) throws IOException {
        while (dst.hasRemaining()) {
            if (socket.read(dst) < 0) {
                throw new EOFException("peer closed the connection with " + dst.remaining() + " bytes outstanding");
            }
        }
    }

    @Override
    public void writeFully(ByteBuffer... srcs) throws IOException {
        long remaining = 0;
        for (ByteBuffer src : srcs) {
            remaining += src.remaining();
        }
        while (remaining > 0) {
            remaining -= socket.write(srcs);
        }
    }

    @Override
    public boolean isTls() {
        return false;
    }

    @Override
    public SocketChannel socket() {
        return socket;
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
