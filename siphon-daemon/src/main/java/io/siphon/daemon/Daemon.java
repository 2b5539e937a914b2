package io.siphon.daemon;

import io.siphon.net.PemTls;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running daemon: the domain manager of one state directory and its control sockets. Thread-safe.
 */
public final class Daemon implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Daemon.class);

    private final DomainManager manager;
    private final List<ControlServer> servers;

    private Daemon(DomainManager manager, List<ControlServer> servers) {
        this.manager = manager;
        this.servers = servers;
    }

    /**
     * A TCP listener with mutual TLS.
     *
     * @param address where to listen
     * @param cert the daemon's certificate chain (PEM)
     * @param key the daemon's unencrypted key (PEM: PKCS#8, PKCS#1 RSA or SEC1 EC)
     * @param ca the CA certificates a client's certificate must chain to (PEM)
     */
    public record TlsListen(InetSocketAddress address, Path cert, Path key, Path ca) {}

    /** As {@link #start(Path, Optional, Optional, Optional)} without TLS. */
    public static Daemon start(Path stateDir, Optional<Path> socket, Optional<Path> roSocket) throws IOException {
        return start(stateDir, socket, roSocket, Optional.empty());
    }

    /**
     * Writes this process's pid to {@code stateDir/daemon.pid} and starts serving {@code stateDir} on {@code socket} (default {@code stateDir/siphon.sock}) and
     * the read-only {@code roSocket} (default {@code stateDir/siphon-ro.sock}).
     */
    public static Daemon start(Path stateDir, Optional<Path> socket, Optional<Path> roSocket, Optional<TlsListen> tls)
            throws IOException {
        DomainManager manager = SharedManagers.acquire(stateDir);
        List<ControlServer> servers = new ArrayList<>();
        try {
            // written under the state lock, before clients can connect: it lets a user stop the daemon
            Files.writeString(
                    stateDir.resolve("daemon.pid"), ProcessHandle.current().pid() + "\n");
            servers.add(ControlServer.listen(socket.orElse(stateDir.resolve("siphon.sock")), manager, false));
            servers.add(ControlServer.listen(roSocket.orElse(stateDir.resolve("siphon-ro.sock")), manager, true));
            if (tls.isPresent()) {
                TlsListen t = tls.get();
                servers.add(ControlServer.listenTls(t.address(), PemTls.mutual(t.cert(), t.key(), t.ca()), manager));
            }
        } catch (IOException | RuntimeException e) {
            for (ControlServer server : servers) {
                server.close();
            }
            SharedManagers.release(manager);
            throw e;
        }
        return new Daemon(manager, servers);
    }

    /** The read-write socket. */
    public Path socket() {
        return servers.get(0).socketFile().orElseThrow();
    }

    /** The read-only socket. */
    public Path readOnlySocket() {
        return servers.get(1).socketFile().orElseThrow();
    }

    /** The TLS listener's TCP port, if there is one (useful after binding port 0). */
    public Optional<Integer> tlsPort() {
        return servers.size() > 2 ? Optional.of(servers.get(2).tcpPort()) : Optional.empty();
    }

    /** Stops listening and stops every domain, keeping running pulls recorded so they resume. */
    @Override
    public void close() throws IOException {
        for (ControlServer server : servers) {
            try {
                server.close();
            } catch (IOException e) {
                LOG.warn("closing {}: {}", server.address(), e.toString());
            }
        }
        SharedManagers.release(manager);
    }
}
