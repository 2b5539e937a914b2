package io.siphon.daemon;

import io.siphon.api.ErrorCode;
import io.siphon.api.SiphonException;
import io.siphon.api.spi.Driver;
import io.siphon.api.spi.DriverSession;
import io.siphon.api.spi.EngineSession;
import io.siphon.net.PemTls;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.ServiceLoader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running daemon: the driver of one state directory (the embedded engine, or another driver such
 * as {@code qemu} found through the Driver SPI) and its control sockets. Thread-safe.
 */
public final class Daemon implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Daemon.class);

    /** The driver a daemon runs unless told otherwise. */
    public static final String DEFAULT_DRIVER = "embedded";

    private final Backend backend;
    private final List<ControlServer> servers;
    private final ControlCounters counters;

    private Daemon(Backend backend, List<ControlServer> servers, ControlCounters counters) {
        this.backend = backend;
        this.servers = servers;
        this.counters = counters;
    }

    /** What serves the clients, and how the daemon lets go of it. */
    private record Backend(SessionFactory sessions, Runnable release, Optional<DomainManager> engine) {}

    /**
     * The embedded engine's shared manager, or a session of the driver named {@code driver} held for
     * the daemon's life (which opens the driver's state, and for qemu finds its running processes).
     */
    private static Backend backend(String driver, Path stateDir, EngineSettings engine) {
        if (driver.equals(DEFAULT_DRIVER)) {
            DomainManager manager = SharedManagers.acquire(stateDir, engine);
            return new Backend(
                    (readOnly, overflow) -> new EngineSession(
                            new EmbeddedEngine(manager),
                            readOnly,
                            () -> {},
                            overflow,
                            EngineSession.MAX_PENDING_EVENTS),
                    () -> SharedManagers.release(manager),
                    Optional.of(manager));
        }
        List<Driver> drivers = ServiceLoader.load(Driver.class).stream()
                .map(ServiceLoader.Provider::get)
                .toList();
        Driver found = drivers.stream()
                .filter(d -> d.schemes().contains(driver) && !driver.startsWith("siphon"))
                .findFirst()
                .orElseThrow(() -> new SiphonException(
                        ErrorCode.NO_SUPPORT,
                        "no driver '" + driver + "' to host (known: " + DEFAULT_DRIVER + ", "
                                + drivers.stream()
                                        .flatMap(d -> d.schemes().stream())
                                        .filter(s -> !s.startsWith("siphon") && !s.equals(DEFAULT_DRIVER))
                                        .sorted()
                                        .toList()
                                + ")"));
        String path = stateDir.toAbsolutePath().normalize().toString();
        DriverSession held = found.open(driverUri(driver, path, false));
        held.setEventSink(event -> {});
        return new Backend(
                (readOnly, overflow) -> found.open(driverUri(driver, path, readOnly)), held::close, Optional.empty());
    }

    private static URI driverUri(String driver, String path, boolean readOnly) {
        try {
            return new URI(driver, null, path, readOnly ? "readonly=1" : null, null);
        } catch (URISyntaxException e) {
            throw new SiphonException(ErrorCode.INVALID_ARG, "state directory " + path + " makes no URI: " + e, e);
        }
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

    /** As {@link #start(Path, String, Optional, Optional, Optional)} with the embedded driver. */
    public static Daemon start(Path stateDir, Optional<Path> socket, Optional<Path> roSocket, Optional<TlsListen> tls)
            throws IOException {
        return start(stateDir, DEFAULT_DRIVER, socket, roSocket, tls);
    }

    /**
     * Runs {@code driver} ({@code embedded}, {@code qemu}) on {@code stateDir}, writes this process's pid to {@code stateDir/daemon.pid}, starts the domains marked autostart and starts serving {@code stateDir} on {@code socket} (default {@code stateDir/siphon.sock}) and
     * the read-only {@code roSocket} (default {@code stateDir/siphon-ro.sock}).
     */
    public static Daemon start(
            Path stateDir, String driver, Optional<Path> socket, Optional<Path> roSocket, Optional<TlsListen> tls)
            throws IOException {
        return start(stateDir, driver, socket, roSocket, tls, EngineSettings.DEFAULT);
    }

    /**
     * As {@link #start(Path, String, Optional, Optional, Optional)}, the embedded engine opened with
     * {@code engine}: the remote backing names its disks may follow, its access profiles' recording
     * (other drivers open chains their own way).
     */
    static Daemon start(
            Path stateDir,
            String driver,
            Optional<Path> socket,
            Optional<Path> roSocket,
            Optional<TlsListen> tls,
            EngineSettings engine)
            throws IOException {
        Backend backend = backend(driver, stateDir, engine);
        SessionFactory sessions = backend.sessions();
        List<ControlServer> servers = new ArrayList<>();
        ControlCounters counters = new ControlCounters();
        try {
            // written under the state lock, before clients can connect: it lets a user stop the daemon
            Files.writeString(
                    stateDir.resolve("daemon.pid"), ProcessHandle.current().pid() + "\n");
            // before any client connects, as libvirtd starts its autostart domains
            Autostart.run(sessions);
            servers.add(
                    ControlServer.listen(socket.orElse(stateDir.resolve("siphon.sock")), sessions, false, counters));
            servers.add(ControlServer.listen(
                    roSocket.orElse(stateDir.resolve("siphon-ro.sock")), sessions, true, counters));
            if (tls.isPresent()) {
                TlsListen t = tls.get();
                servers.add(ControlServer.listenTls(
                        t.address(), PemTls.mutual(t.cert(), t.key(), t.ca()), sessions, counters));
            }
        } catch (IOException | RuntimeException e) {
            for (ControlServer server : servers) {
                server.close();
            }
            backend.release().run();
            throw e;
        }
        return new Daemon(backend, servers, counters);
    }

    /** What the web console and the metrics read of this daemon, and the sessions they act through. */
    public DaemonView view() {
        return new DaemonView(backend.sessions(), backend.engine(), counters);
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

    /**
     * Stops listening and lets go of the driver: the embedded engine stops every domain, keeping
     * running pulls recorded so they resume; the qemu driver leaves QEMU processes running.
     */
    @Override
    public void close() throws IOException {
        for (ControlServer server : servers) {
            try {
                server.close();
            } catch (IOException e) {
                LOG.warn("closing {}: {}", server.address(), e.toString());
            }
        }
        backend.release().run();
    }
}
