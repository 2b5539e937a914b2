package io.siphon.nbd.protocol;

import io.siphon.net.TlsPolicy;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.concurrent.locks.ReentrantLock;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLException;

/**
 * NBD over TLS: an {@link SSLEngine} over a blocking socket. Reads (unwrap) and writes (wrap) run on
 * different threads; SSLEngine allows that, and each direction has its own lock because a read may
 * have to send (a post-handshake message).
 */
final class TlsChannel implements NbdChannel {
    private final SocketChannel socket;
    private final SSLEngine engine;
    private final ReentrantLock readLock = new ReentrantLock();
    private final ReentrantLock writeLock = new ReentrantLock();
    private ByteBuffer netIn;
    private ByteBuffer appIn;
    private ByteBuffer netOut;

    private TlsChannel(SocketChannel socket, SSLEngine engine) {
        this.socket = socket;
        this.engine = engine;
        int packet = engine.getSession().getPacketBufferSize();
        this.netIn = ByteBuffer.allocate(packet).flip();
        this.appIn = ByteBuffer.allocate(engine.getSession().getApplicationBufferSize())
                .flip();
        this.netOut = ByteBuffer.allocate(packet);
    }

    static TlsChannel handshake(SocketChannel socket, SSLContext context, boolean clientMode, String peerHost)
            throws IOException {
        SSLEngine engine = clientMode
                ? TlsPolicy.clientEngine(context, peerHost, socket.socket().getPort())
                : TlsPolicy.serverEngine(context, false);
        TlsChannel channel = new TlsChannel(socket, engine);
        engine.beginHandshake();
        channel.runHandshake();
        return channel;
    }

    private void runHandshake() throws IOException {
        while (true) {
            switch (engine.getHandshakeStatus()) {
                case NEED_WRAP -> wrapAndSend(new ByteBuffer[] {ByteBuffer.allocate(0)});
                case NEED_UNWRAP, NEED_UNWRAP_AGAIN -> {
                    if (!unwrapSome()) {
                        throw new EOFException("peer closed the connection during the TLS handshake");
                    }
                }
                case NEED_TASK -> runTasks();
                case FINISHED, NOT_HANDSHAKING -> {
                    return;
                }
            }
        }
    }

    private void runTasks() {
        Runnable task;
        while ((task = engine.getDelegatedTask()) != null) {
            task.run();
        }
    }

    /** Unwraps one record into {@link #appIn}, reading from the socket as needed; false at end of stream. */
    private boolean unwrapSome() throws IOException {
        while (true) {
            appIn.compact();
            SSLEngineResult result;
            try {
                result = engine.unwrap(netIn, appIn);
            } finally {
                appIn.flip();
            }
            switch (result.getStatus()) {
                case OK -> {
                    afterUnwrap(result);
                    return true;
                }
                case BUFFER_UNDERFLOW -> {
                    if (netIn.capacity() < engine.getSession().getPacketBufferSize()) {
                        netIn = grow(netIn, engine.getSession().getPacketBufferSize());
                    }
                    netIn.compact();
                    int n;
                    try {
                        n = socket.read(netIn);
                    } finally {
                        netIn.flip();
                    }
                    if (n < 0) {
                        return false;
                    }
                }
                case BUFFER_OVERFLOW ->
                    appIn = grow(appIn, engine.getSession().getApplicationBufferSize() + appIn.remaining());
                case CLOSED -> {
                    return false;
                }
            }
        }
    }

    private void afterUnwrap(SSLEngineResult result) throws IOException {
        SSLEngineResult.HandshakeStatus status = result.getHandshakeStatus();
        if (status == SSLEngineResult.HandshakeStatus.NEED_TASK) {
            runTasks();
            status = engine.getHandshakeStatus();
        }
        if (status == SSLEngineResult.HandshakeStatus.NEED_WRAP) {
            // A post-handshake message (key update) needs an answer from the reading side.
            wrapAndSend(new ByteBuffer[] {ByteBuffer.allocate(0)});
        }
    }

    private static ByteBuffer grow(ByteBuffer flipped, int capacity) {
        ByteBuffer bigger = ByteBuffer.allocate(Math.max(capacity, flipped.remaining()));
        bigger.put(flipped).flip();
        return bigger;
    }

    @Override
    public void readFully(ByteBuffer dst) throws IOException {
        readLock.lock();
        try {
            while (dst.hasRemaining()) {
                if (!appIn.hasRemaining() && !unwrapSome()) {
                    throw new EOFException(
                            "peer closed the TLS connection with " + dst.remaining() + " bytes outstanding");
                }
                int n = Math.min(dst.remaining(), appIn.remaining());
                dst.put(dst.position(), appIn, appIn.position(), n);
                dst.position(dst.position() + n);
                appIn.position(appIn.position() + n);
            }
        } finally {
            readLock.unlock();
        }
    }

    @Override
    public void writeFully(ByteBuffer... srcs) throws IOException {
        wrapAndSend(srcs);
    }

    private void wrapAndSend(ByteBuffer[] srcs) throws IOException {
        writeLock.lock();
        try {
            do {
                netOut.clear();
                SSLEngineResult result = engine.wrap(srcs, netOut);
                switch (result.getStatus()) {
                    case OK -> {}
                    case BUFFER_OVERFLOW -> {
                        netOut = ByteBuffer.allocate(netOut.capacity() * 2);
                        continue;
                    }
                    case CLOSED -> throw new SSLException("TLS connection is closed");
                    case BUFFER_UNDERFLOW -> throw new SSLException("unexpected TLS wrap underflow");
                }
                netOut.flip();
                while (netOut.hasRemaining()) {
                    socket.write(netOut);
                }
                if (result.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.NEED_TASK) {
                    runTasks();
                }
            } while (hasRemaining(srcs));
        } finally {
            writeLock.unlock();
        }
    }

    private static boolean hasRemaining(ByteBuffer[] srcs) {
        for (ByteBuffer src : srcs) {
            if (src.hasRemaining()) {
                return true;
            }
        }
        return false;
    }

    @Override
    public boolean isTls() {
        return true;
    }

    @Override
    public SocketChannel socket() {
        return socket;
    }

    @Override
    public void close() throws IOException {
        engine.closeOutbound();
        socket.close();
    }
}
