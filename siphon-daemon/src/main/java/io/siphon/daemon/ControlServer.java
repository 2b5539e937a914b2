package io.siphon.daemon;

import io.siphon.api.ErrorCode;
import io.siphon.api.SiphonException;
import io.siphon.net.Listener;
import io.siphon.net.SocketInUseException;
import io.siphon.net.TlsPolicy;
import io.siphon.protocol.ErrorReply;
import io.siphon.protocol.MessageCodec;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The control protocol on one listening socket: a Unix socket, read-write (mode 0600) or read-only
 * (mode 0666, queries only), or TCP with mutual TLS (read-write; a client without a certificate
 * from the configured CA fails the handshake). Each client runs on its own virtual thread; beyond
 * {@link #MAX_CLIENTS} at once a new client gets an error and is closed, so a flood cannot starve
 * the daemon. Thread-safe.
 */
final class ControlServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ControlServer.class);

    /** Clients served at once per socket. */
    static final int MAX_CLIENTS = 128;

    private static final AtomicLong CLIENT_NUMBERS = new AtomicLong();
    private static final int HANDSHAKE_TIMEOUT_MILLIS = 30_000;

    /** One accepted connection, as streams, and what must succeed before it is served. */
    private record Accepted(String peer, InputStream in, OutputStream out, Closeable channel, Ready ready) {}

    /** Run on the client's own thread before serving it (the TLS handshake). */
    @FunctionalInterface
    private interface Ready {
        void await() throws IOException;
    }

    /** Turns an accepted connection into streams (for TLS, a socket whose handshake is still to run). */
    @FunctionalInterface
    private interface Acceptor {
        Accepted accept(SocketChannel channel) throws IOException;
    }

    private final String address;
    private final Listener listener;
    private final SessionFactory sessions;
    private final boolean readOnly;
    private final ControlCounters counters;
    private final Semaphore slots = new Semaphore(MAX_CLIENTS);
    private final Set<Closeable> clients = ConcurrentHashMap.newKeySet();

    private ControlServer(
            String address, Listener listener, SessionFactory sessions, boolean readOnly, ControlCounters counters) {
        this.counters = counters;
        this.address = address;
        this.listener = listener;
        this.sessions = sessions;
        this.readOnly = readOnly;
    }

    /** Listens on the Unix socket {@code socket}, replacing a stale socket file but never a live daemon's. */
    static ControlServer listen(Path socket, SessionFactory sessions, boolean readOnly, ControlCounters counters)
            throws IOException {
        Listener server;
        try {
            server = Listener.unix(socket, PosixFilePermissions.fromString(readOnly ? "rw-rw-rw-" : "rw-------"));
        } catch (SocketInUseException e) {
            throw new SiphonException(ErrorCode.OPERATION_FAILED, "another daemon already listens on " + socket);
        }
        ControlServer control = new ControlServer(socket.toString(), server, sessions, readOnly, counters);
        control.start(client -> new Accepted(
                "unix", Channels.newInputStream(client), Channels.newOutputStream(client), client, () -> {}));
        return control;
    }

    /** Listens on TCP {@code address} with mutual TLS from {@code tls}. */
    static ControlServer listenTls(
            InetSocketAddress address, SSLContext tls, SessionFactory sessions, ControlCounters counters)
            throws IOException {
        Listener server = Listener.tcp(address);
        InetSocketAddress local = (InetSocketAddress) server.address();
        String bound = local.getAddress().getHostAddress() + ":" + local.getPort();
        ControlServer control = new ControlServer("tls://" + bound, server, sessions, false, counters);
        control.start(channel -> {
            SSLSocket client = TlsPolicy.serverSocket(tls, channel, true);
            String peer = client.getInetAddress().getHostAddress() + ":" + client.getPort();
            // a peer that stalls its handshake is dropped; once authenticated it may idle
            client.setSoTimeout(HANDSHAKE_TIMEOUT_MILLIS);
            return new Accepted(peer, client.getInputStream(), client.getOutputStream(), client, () -> {
                client.startHandshake();
                client.setSoTimeout(0);
            });
        });
        return control;
    }

    private void start(Acceptor acceptor) {
        listener.start("siphon-control-" + address, channel -> {
            Accepted client;
            try {
                client = acceptor.accept(channel);
            } catch (IOException e) {
                LOG.warn("a connection on {} failed: {}", address, e.toString());
                closeQuietly(channel);
                return;
            }
            String name = "#" + CLIENT_NUMBERS.incrementAndGet() + " (" + client.peer() + ")";
            if (!slots.tryAcquire()) {
                Thread.ofVirtual().name("siphon-refuse-" + name).start(() -> refuse(client, name));
                return;
            }
            clients.add(client.channel());
            Runnable exit = () -> {
                clients.remove(client.channel());
                slots.release();
            };
            ControlClient served = new ControlClient(
                    name, client.in(), client.out(), client.channel(), sessions, readOnly, counters, exit);
            Thread.ofVirtual().name("siphon-client-" + name).start(() -> {
                try {
                    client.ready().await();
                } catch (IOException e) {
                    LOG.warn("client {} failed the TLS handshake: {}", name, e.toString());
                    closeQuietly(client.channel());
                    exit.run();
                    return;
                }
                served.run();
            });
        });
        LOG.info("listening on {}{}", address, readOnly ? " (read-only)" : "");
    }

    private static void refuse(Accepted client, String name) {
        LOG.warn("client {} refused: {} clients already connected", name, MAX_CLIENTS);
        String line = MessageCodec.encode(new ErrorReply(
                        ErrorCode.OPERATION_FAILED.name(),
                        "too many clients (" + MAX_CLIENTS + "); try again later",
                        Optional.empty()))
                + "\n";
        try (Closeable channel = client.channel()) {
            client.ready().await();
            client.out().write(line.getBytes(StandardCharsets.UTF_8));
            client.out().flush();
        } catch (IOException e) {
            LOG.debug("refusing client {}", name, e);
        }
    }

    private static void closeQuietly(Closeable channel) {
        try {
            channel.close();
        } catch (IOException e) {
            LOG.debug("closing", e);
        }
    }

    /** Where this server listens, for logs. */
    String address() {
        return address;
    }

    /** The Unix socket file, for Unix listeners. */
    Optional<Path> socketFile() {
        return listener.socketFile();
    }

    /** The bound TCP port, for TLS listeners. */
    int tcpPort() {
        try {
            return listener.tcpPort();
        } catch (IOException e) {
            return -1; // closed
        }
    }

    /** Stops accepting, disconnects every client and removes the socket file. */
    @Override
    public void close() throws IOException {
        listener.close();
        clients.forEach(ControlServer::closeQuietly);
    }
}
