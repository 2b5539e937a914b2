package io.siphon.daemon;

import java.io.IOException;
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
     * Writes this process's pid to {@code stateDir/daemon.pid} and starts serving {@code stateDir} on {@code socket} (default {@code stateDir/siphon.sock}) and
     * the read-only {@code roSocket} (default {@code stateDir/siphon-ro.sock}).
     */
    public static Daemon start(Path stateDir, Optional<Path> socket, Optional<Path> roSocket) throws IOException {
        DomainManager manager = SharedManagers.acquire(stateDir);
        List<ControlServer> servers = new ArrayList<>();
        try {
            // written under the state lock, before clients can connect: it lets a user stop the daemon
            java.nio.file.Files.writeString(
                    stateDir.resolve("daemon.pid"), ProcessHandle.current().pid() + "\n");
            servers.add(ControlServer.listen(socket.orElse(stateDir.resolve("siphon.sock")), manager, false));
            servers.add(ControlServer.listen(roSocket.orElse(stateDir.resolve("siphon-ro.sock")), manager, true));
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
        return servers.get(0).socket();
    }

    /** The read-only socket. */
    public Path readOnlySocket() {
        return servers.get(1).socket();
    }

    /** Stops listening and stops every domain, keeping running pulls recorded so they resume. */
    @Override
    public void close() throws IOException {
        for (ControlServer server : servers) {
            try {
                server.close();
            } catch (IOException e) {
                LOG.warn("closing {}: {}", server.socket(), e.toString());
            }
        }
        SharedManagers.release(manager);
    }
}
