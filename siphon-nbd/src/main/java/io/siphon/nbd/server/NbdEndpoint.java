package io.siphon.nbd.server;

import io.siphon.net.Listener;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.URLEncoder;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Optional;
import java.util.function.Consumer;
import javax.net.ssl.SSLContext;

/** One listening socket of the server (Unix or TCP), whether its clients must STARTTLS, and its URIs. */
final class NbdEndpoint {
    private final Listener listener;
    private final Optional<SSLContext> tls;

    private NbdEndpoint(Listener listener, Optional<SSLContext> tls) {
        this.listener = listener;
        this.tls = tls;
    }

    /** Binds a Unix socket at {@code path}, replacing a stale socket file but not a live server's. */
    static NbdEndpoint unix(Path path) throws IOException {
        return new NbdEndpoint(Listener.unix(path), Optional.empty());
    }

    /** Binds TCP at {@code host}:{@code port} (port 0 picks a free one); with TLS, clients must STARTTLS. */
    static NbdEndpoint tcp(String host, int port, Optional<SSLContext> tls) throws IOException {
        return new NbdEndpoint(Listener.tcp(new InetSocketAddress(host, port)), tls);
    }

    Optional<SSLContext> tls() {
        return tls;
    }

    SocketAddress address() throws IOException {
        return listener.address();
    }

    /** The URI a client uses to reach {@code exportName} here. */
    String uri(String exportName) throws IOException {
        String name = URLEncoder.encode(exportName, StandardCharsets.UTF_8).replace("+", "%20");
        if (listener.socketFile().isPresent()) {
            return "nbd+unix:///" + name + "?socket=" + listener.socketFile().get();
        }
        InetSocketAddress address = (InetSocketAddress) listener.address();
        String host = address.getAddress().isAnyLocalAddress()
                ? "localhost"
                : address.getAddress().getHostAddress();
        if (host.contains(":")) {
            host = "[" + host + "]";
        }
        return (tls.isPresent() ? "nbds://" : "nbd://") + host + ":" + address.getPort() + "/" + name;
    }

    void start(Consumer<SocketChannel> handler) {
        listener.start("nbd-accept-" + listener, handler);
    }

    void close() throws IOException {
        listener.close();
    }
}
