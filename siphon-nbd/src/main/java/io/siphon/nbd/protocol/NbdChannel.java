package io.siphon.nbd.protocol;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import javax.net.ssl.SSLContext;

/**
 * A connected byte stream carrying NBD: plain or TLS. One thread may read while another writes;
 * callers serialize writes among themselves (a reply is written whole, under the caller's lock).
 */
public sealed interface NbdChannel extends AutoCloseable permits PlainChannel, TlsChannel {
    /** Fills {@code dst}; end of stream before it is full is an {@link java.io.EOFException}. */
    void readFully(ByteBuffer dst) throws IOException;

    /** Writes every remaining byte of {@code srcs}, in order. */
    void writeFully(ByteBuffer... srcs) throws IOException;

    boolean isTls();

    /** The underlying socket, for addresses in logs. */
    SocketChannel socket();

    @Override
    void close() throws IOException;

    /** A channel that sends bytes as they are. */
    static NbdChannel plain(SocketChannel socket) {
        return new PlainChannel(socket);
    }

    /**
     * Runs a TLS handshake over {@code socket} (which must have no unread bytes buffered above it) and
     * returns the encrypted channel.
     */
    static NbdChannel startTls(SocketChannel socket, SSLContext context, boolean clientMode, String peerHost)
            throws IOException {
        return TlsChannel.handshake(socket, context, clientMode, peerHost);
    }
}
