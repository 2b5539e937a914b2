package io.siphon.net;

import java.io.Closeable;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One listening socket, Unix-domain or TCP, and the virtual thread accepting on it: each accepted
 * connection goes to a handler, which must hand it to a thread of its own to serve. A Unix socket
 * file left by a process that died is replaced; one that a live process answers on is an error.
 * Thread-safe.
 */
public final class Listener implements Closeable {
    private static final Logger LOG = LoggerFactory.getLogger(Listener.class);

    /** How long the loop waits after a failed accept (out of file descriptors, say), so as not to spin. */
    private static final long ACCEPT_RETRY_MILLIS = 100;

    private final ServerSocketChannel server;
    private final Optional<Path> socketFile;
    private final String description;
    private volatile Thread acceptor;

    private Listener(ServerSocketChannel server, Optional<Path> socketFile) throws IOException {
        this.server = server;
        this.socketFile = socketFile;
        this.description = socketFile.map(Path::toString).orElse(String.valueOf(server.getLocalAddress()));
    }

    /** Binds a Unix socket at {@code path} with the process's umask. */
    public static Listener unix(Path path) throws IOException {
        return unix(path, Optional.empty());
    }

    /** Binds a Unix socket at {@code path} and gives the socket file {@code permissions}. */
    public static Listener unix(Path path, Set<PosixFilePermission> permissions) throws IOException {
        return unix(path, Optional.of(permissions));
    }

    private static Listener unix(Path path, Optional<Set<PosixFilePermission>> permissions) throws IOException {
        removeStaleSocket(path);
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            server.bind(UnixDomainSocketAddress.of(path));
            if (permissions.isPresent()) {
                Files.setPosixFilePermissions(path, permissions.get());
            }
            return new Listener(server, Optional.of(path));
        } catch (IOException e) {
            server.close();
            throw new IOException("cannot listen on Unix socket " + path + ": " + e.getMessage(), e);
        }
    }

    /** Binds TCP at {@code address} (port 0 picks a free one). */
    public static Listener tcp(InetSocketAddress address) throws IOException {
        ServerSocketChannel server = ServerSocketChannel.open(Connect.family(address));
        try {
            server.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            server.bind(address);
            return new Listener(server, Optional.empty());
        } catch (IOException e) {
            server.close();
            throw new IOException(
                    "cannot listen on TCP " + address.getHostString() + ":" + address.getPort() + ": " + e.getMessage(),
                    e);
        }
    }

    /** A socket file nobody answers on is left from a killed process: remove it, but never a live one's. */
    private static void removeStaleSocket(Path path) throws IOException {
        BasicFileAttributes attributes;
        try {
            attributes = Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            return;
        }
        if (!attributes.isOther()) {
            throw new IOException("cannot listen on Unix socket " + path + ": a file that is not a socket is there");
        }
        if (Connect.answers(path)) {
            throw new SocketInUseException(path);
        }
        Files.deleteIfExists(path);
    }

    /** The bound address: the Unix socket's, or the TCP address with the port chosen. */
    public SocketAddress address() throws IOException {
        return server.getLocalAddress();
    }

    /** The bound TCP port, or -1 for a Unix socket. */
    public int tcpPort() throws IOException {
        return address() instanceof InetSocketAddress inet ? inet.getPort() : -1;
    }

    /** The socket file of a Unix listener. */
    public Optional<Path> socketFile() {
        return socketFile;
    }

    /** Starts accepting on a virtual thread named {@code threadName}; the handler runs on that thread. */
    public synchronized void start(String threadName, Consumer<SocketChannel> handler) {
        if (acceptor != null) {
            throw new IllegalStateException("listener on " + description + " already started");
        }
        acceptor = Thread.ofVirtual().name(threadName).start(() -> acceptLoop(handler));
    }

    private void acceptLoop(Consumer<SocketChannel> handler) {
        while (server.isOpen()) {
            SocketChannel client;
            try {
                client = server.accept();
            } catch (IOException e) {
                if (server.isOpen()) {
                    LOG.warn("accepting on {} failed: {}", description, e.toString());
                    pause();
                }
                continue;
            }
            try {
                handler.accept(client);
            } catch (RuntimeException e) {
                LOG.warn("a connection on {} could not be handed over: {}", description, e.toString());
                closeQuietly(client);
            }
        }
    }

    private static void pause() {
        try {
            Thread.sleep(ACCEPT_RETRY_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void closeQuietly(SocketChannel client) {
        try {
            client.close();
        } catch (IOException e) {
            LOG.debug("closing a refused connection", e);
        }
    }

    /** Stops accepting and removes the socket file; connections already handed over stay open. */
    @Override
    public void close() throws IOException {
        server.close();
        Thread thread = acceptor;
        if (thread != null) {
            thread.interrupt();
        }
        if (socketFile.isPresent()) {
            Files.deleteIfExists(socketFile.get());
        }
    }

    @Override
    public String toString() {
        return description;
    }
}
