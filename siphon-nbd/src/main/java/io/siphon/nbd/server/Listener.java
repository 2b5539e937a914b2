package io.siphon.nbd.server;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.function.Consumer;
import javax.net.ssl.SSLContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** One listening socket (Unix or TCP) and the thread accepting on it; connections go to a handler. */
final class Listener {
    private static final Logger LOG = LoggerFactory.getLogger(Listener.class);

    private final ServerSocketChannel server;
    private final Optional<Path> socketPath;
    private final Optional<SSLContext> tls;
    private Thread acceptor;

    private Listener(ServerSocketChannel server, Optional<Path> socketPath, Optional<SSLContext> tls) {
        this.server = server;
        this.socketPath = socketPath;
        this.tls = tls;
    }

    /** Binds a Unix socket at {@code path}; an existing socket file there is an error, not replaced. */
    static Listener unix(Path path) throws IOException {
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            server.bind(UnixDomainSocketAddress.of(path));
        } catch (IOException e) {
            server.close();
            throw new IOException("cannot listen on Unix socket " + path + ": " + e.getMessage(), e);
        }
        return new Listener(server, Optional.of(path), Optional.empty());
    }

    /** Binds TCP at {@code host}:{@code port} (port 0 picks a free one); with TLS, clients must STARTTLS. */
    static Listener tcp(String host, int port, Optional<SSLContext> tls) throws IOException {
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.INET);
        try {
            server.bind(new InetSocketAddress(host, port));
        } catch (IOException e) {
            server.close();
            throw new IOException("cannot listen on TCP " + host + ":" + port + ": " + e.getMessage(), e);
        }
        return new Listener(server, Optional.empty(), tls);
    }

    Optional<SSLContext> tls() {
        return tls;
    }

    SocketAddress address() throws IOException {
        return server.getLocalAddress();
    }

    /** The URI a client uses to reach {@code exportName} here. */
    String uri(String exportName) throws IOException {
        String name = java.net.URLEncoder.encode(exportName, java.nio.charset.StandardCharsets.UTF_8)
                .replace("+", "%20");
        if (socketPath.isPresent()) {
            return "nbd+unix:///" + name + "?socket=" + socketPath.get();
        }
        InetSocketAddress address = (InetSocketAddress) server.getLocalAddress();
        String host = address.getAddress().isAnyLocalAddress()
                ? "localhost"
                : address.getAddress().getHostAddress();
        if (host.contains(":")) {
            host = "[" + host + "]";
        }
        return (tls.isPresent() ? "nbds://" : "nbd://") + host + ":" + address.getPort() + "/" + name;
    }

    void start(Consumer<SocketChannel> handler) {
        acceptor = Thread.ofVirtual().name("nbd-accept-" + describe()).start(() -> acceptLoop(handler));
    }

    private void acceptLoop(Consumer<SocketChannel> handler) {
        while (server.isOpen()) {
            try {
                handler.accept(server.accept());
            } catch (IOException e) {
                if (server.isOpen()) {
                    LOG.warn("accepting on {} failed: {}", describe(), e.toString());
                    pause(); // out of file descriptors, say: do not spin
                }
            }
        }
    }

    private static void pause() {
        try {
            Thread.sleep(100);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private String describe() {
        try {
            return String.valueOf(server.getLocalAddress());
        } catch (IOException e) {
            return "a closed listener";
        }
    }

    void close() throws IOException {
        server.close();
        if (acceptor != null) {
            acceptor.interrupt();
        }
        if (socketPath.isPresent()) {
            Files.deleteIfExists(socketPath.get());
        }
    }
}
