package io.siphon.daemon;

import io.siphon.api.ErrorCode;
import io.siphon.api.SiphonException;
import io.siphon.protocol.ErrorReply;
import io.siphon.protocol.Messages;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The control protocol on one Unix socket: read-write (mode 0600) or read-only (mode 0666, queries
 * only). Each client runs on its own virtual thread; beyond {@link #MAX_CLIENTS} at once a new
 * client gets an error and is closed, so a flood cannot starve the daemon. Thread-safe.
 */
final class ControlServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ControlServer.class);

    /** Clients served at once per socket. */
    static final int MAX_CLIENTS = 128;

    private static final AtomicLong CLIENT_NUMBERS = new AtomicLong();

    private final Path socket;
    private final ServerSocketChannel server;
    private final DomainManager manager;
    private final boolean readOnly;
    private final Semaphore slots = new Semaphore(MAX_CLIENTS);
    private final Thread acceptor;

    private ControlServer(Path socket, ServerSocketChannel server, DomainManager manager, boolean readOnly) {
        this.socket = socket;
        this.server = server;
        this.manager = manager;
        this.readOnly = readOnly;
        this.acceptor = Thread.ofPlatform()
                .name("siphon-control-" + socket.getFileName())
                .daemon(true)
                .unstarted(this::acceptLoop);
    }

    /** Listens on {@code socket}, replacing a stale socket file but never a live daemon's. */
    static ControlServer listen(Path socket, DomainManager manager, boolean readOnly) throws IOException {
        if (Files.exists(socket)) {
            try (SocketChannel probe = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
                throw new SiphonException(ErrorCode.OPERATION_FAILED, "another daemon already listens on " + socket);
            } catch (IOException e) {
                Files.delete(socket); // nobody answers: left over from a killed daemon
            }
        }
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            server.bind(UnixDomainSocketAddress.of(socket));
            Files.setPosixFilePermissions(
                    socket, PosixFilePermissions.fromString(readOnly ? "rw-rw-rw-" : "rw-------"));
        } catch (IOException e) {
            server.close();
            throw e;
        }
        ControlServer control = new ControlServer(socket, server, manager, readOnly);
        control.acceptor.start();
        LOG.info("listening on {}{}", socket, readOnly ? " (read-only)" : "");
        return control;
    }

    private void acceptLoop() {
        while (true) {
            SocketChannel client;
            try {
                client = server.accept();
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                LOG.warn("accept on {} failed: {}", socket, e.toString());
                continue;
            }
            String name = "#" + CLIENT_NUMBERS.incrementAndGet();
            if (!slots.tryAcquire()) {
                refuse(client, name);
                continue;
            }
            Thread.ofVirtual()
                    .name("siphon-client-" + name)
                    .start(new ControlClient(name, client, manager, readOnly, slots::release));
        }
    }

    private static void refuse(SocketChannel client, String name) {
        LOG.warn("client {} refused: {} clients already connected", name, MAX_CLIENTS);
        String line = Messages.encode(new ErrorReply(
                        ErrorCode.OPERATION_FAILED.name(),
                        "too many clients (" + MAX_CLIENTS + "); try again later",
                        Optional.empty()))
                + "\n";
        try (client) {
            client.configureBlocking(false);
            client.write(ByteBuffer.wrap(line.getBytes(StandardCharsets.UTF_8)));
        } catch (IOException e) {
            LOG.debug("refusing client {}", name, e);
        }
    }

    Path socket() {
        return socket;
    }

    /** Stops accepting and removes the socket file; connected clients end when the manager closes. */
    @Override
    public void close() throws IOException {
        server.close();
        Files.deleteIfExists(socket);
    }
}
