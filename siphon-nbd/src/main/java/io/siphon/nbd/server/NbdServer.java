package io.siphon.nbd.server;

import io.siphon.block.BlockDevice;
import io.siphon.block.filter.GuestIoStats;
import io.siphon.nbd.protocol.NbdChannel;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import javax.net.ssl.SSLContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An NBD server (fixed newstyle, structured replies, base:allocation) serving named {@link
 * BlockDevice}s on Unix and TCP sockets. Each connection runs on virtual threads; exports can be
 * added and removed while it runs. Thread-safe. The server never closes the devices: their owner
 * does, after {@link #close()} or {@link #removeExport(String)}.
 */
public final class NbdServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(NbdServer.class);

    private final ExportTable exports = new ExportTable();
    private final List<ListenerSpec> specs;
    private final List<NbdEndpoint> listeners = new ArrayList<>();
    private final Set<Connection> connections = ConcurrentHashMap.newKeySet();
    private final BufferPool buffers = new BufferPool();
    private final InFlightBudget memory;
    private final ReplyStalls stalls;
    private final NbdServerListener listener;
    private volatile boolean running;

    private NbdServer(
            List<Export> initial,
            List<ListenerSpec> specs,
            InFlightBudget memory,
            Duration stallTimeout,
            NbdServerListener listener) {
        initial.forEach(exports::add);
        this.specs = List.copyOf(specs);
        this.memory = memory;
        this.stalls = new ReplyStalls(stallTimeout);
        this.listener = listener;
    }

    /** A builder for a server; nothing listens until {@link #start()}. */
    public static Builder builder() {
        return new Builder();
    }

    /** Binds every listener and starts accepting; a bind failure closes what was bound and is thrown. */
    public synchronized NbdServer start() throws IOException {
        if (running) {
            throw new IllegalStateException("server already started");
        }
        try {
            for (ListenerSpec spec : specs) {
                NbdEndpoint listener = spec.socketPath().isPresent()
                        ? NbdEndpoint.unix(spec.socketPath().get())
                        : NbdEndpoint.tcp(spec.host(), spec.port(), spec.tls());
                listeners.add(listener);
            }
        } catch (IOException e) {
            closeListeners();
            throw e;
        }
        running = true;
        for (NbdEndpoint listener : listeners) {
            listener.start(socket -> accept(socket, listener));
            LOG.info("NBD server listening on {}", listener.address());
        }
        return this;
    }

    /** Offers {@code device} as {@code name}; read-only exports refuse writes with EPERM. */
    public void addExport(String name, BlockDevice device, boolean readOnly) {
        addExport(name, "", device, readOnly);
    }

    /** Offers {@code device} as {@code name} with a description shown by NBD_OPT_LIST and INFO. */
    public void addExport(String name, String description, BlockDevice device, boolean readOnly) {
        addExport(name, description, device, readOnly, new GuestIoStats());
    }

    /**
     * {@link #addExport(String, String, BlockDevice, boolean)}, counting every read, write,
     * write-zeroes and trim of its clients into {@code guestIo}, timed from the request's arrival
     * (its header read) to its reply written: the queue depth and latency a guest sees, for
     * guest-aware pacing. Costs no allocation and no lock per request.
     */
    public void addExport(String name, String description, BlockDevice device, boolean readOnly, GuestIoStats guestIo) {
        exports.add(new Export(name, description, device, readOnly, guestIo));
    }

    /**
     * Withdraws an export and disconnects its clients (requests in flight finish first); true if it
     * existed. Afterwards the server no longer touches its device.
     */
    public boolean removeExport(String name) {
        Optional<Export> removed = exports.remove(name);
        removed.ifPresent(
                export -> connections.stream().filter(c -> c.export() == export).forEach(Connection::closeAndWait));
        return removed.isPresent();
    }

    /** Names of the exports, sorted. */
    public List<String> exportNames() {
        return exports.all().stream().map(Export::name).toList();
    }

    /** One URI per listener for {@code exportName}: nbd+unix:///NAME?socket=PATH, nbd://HOST:PORT/NAME, nbds://… */
    public List<String> uris(String exportName) throws IOException {
        List<String> uris = new ArrayList<>();
        for (NbdEndpoint listener : listeners) {
            uris.add(listener.uri(exportName));
        }
        return uris;
    }

    /** The first listener's URI for {@code exportName}. */
    public String uri(String exportName) throws IOException {
        if (listeners.isEmpty()) {
            throw new IllegalStateException("server is not listening");
        }
        return listeners.getFirst().uri(exportName);
    }

    /** The port of the first TCP listener (useful after binding port 0). */
    public int tcpPort() throws IOException {
        for (NbdEndpoint listener : listeners) {
            if (listener.address() instanceof InetSocketAddress inet) {
                return inet.getPort();
            }
        }
        throw new IllegalStateException("no TCP listener");
    }

    private void accept(SocketChannel socket, NbdEndpoint listener) {
        Connection connection = new Connection(socket, listener.tls());
        connections.add(connection);
        connection.start(() -> connections.remove(connection));
    }

    /** Stops listening and disconnects every client; requests in flight finish first. */
    @Override
    public synchronized void close() throws IOException {
        running = false;
        closeListeners();
        for (Connection connection : List.copyOf(connections)) {
            connection.closeAndWait();
        }
        stalls.close();
    }

    /** Bytes of request buffers this server holds now, in flight or idle in its pool. */
    long bufferBytes() {
        return buffers.liveBytes();
    }

    private void closeListeners() throws IOException {
        IOException failure = null;
        for (NbdEndpoint listener : listeners) {
            try {
                listener.close();
            } catch (IOException e) {
                failure = failure == null ? e : failure;
            }
        }
        listeners.clear();
        if (failure != null) {
            throw failure;
        }
    }

    /** One client connection: handshake, then its session, on one virtual thread. */
    private final class Connection {
        private final SocketChannel socket;
        private final Optional<SSLContext> tls;
        private volatile Export export;
        private volatile NbdChannel channel;
        private Thread thread;

        Connection(SocketChannel socket, Optional<SSLContext> tls) {
            this.socket = socket;
            this.tls = tls;
        }

        Export export() {
            return export;
        }

        void start(Runnable onEnd) {
            thread = Thread.ofVirtual().name("nbd-connection").start(() -> {
                try {
                    serve();
                } finally {
                    onEnd.run();
                }
            });
        }

        private void serve() {
            String peer = peer();
            try {
                channel = NbdChannel.plain(socket);
                Optional<Handshake.Agreement> agreement = new Handshake(channel, exports, tls).run();
                if (agreement.isEmpty()) {
                    return;
                }
                channel = agreement.get().channel();
                Session session = new Session(agreement.get(), buffers, memory, stalls, listener);
                export = session.export();
                if (exports.find(export.name()).orElse(null) != export) {
                    return; // removed while this client was negotiating
                }
                LOG.debug("{} uses export '{}'", peer, export.name());
                Listened.run(() -> listener.connectionOpened(export.name()));
                try {
                    session.serve();
                } finally {
                    Listened.run(() -> listener.connectionClosed(export.name()));
                }
            } catch (EOFException e) {
                LOG.debug("{} hung up: {}", peer, e.getMessage());
            } catch (IOException | RuntimeException e) {
                // One client's failure ends its connection only; the server goes on.
                LOG.info("connection from {} ended: {}", peer, e.toString());
            } finally {
                closeSocket();
            }
        }

        private String peer() {
            try {
                return String.valueOf(socket.getRemoteAddress());
            } catch (IOException e) {
                return "unknown peer";
            }
        }

        private void closeSocket() {
            try {
                NbdChannel current = channel;
                if (current != null) {
                    current.close();
                }
                socket.close();
            } catch (IOException e) {
                LOG.debug("closing connection: {}", e.toString());
            }
        }

        void closeAndWait() {
            closeSocket();
            try {
                if (thread != null) {
                    thread.join();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private record ListenerSpec(Optional<Path> socketPath, String host, int port, Optional<SSLContext> tls) {}

    /** Collects exports and listeners for {@link #build()}; not thread-safe. */
    public static final class Builder {
        private final List<Export> exports = new ArrayList<>();
        private final List<ListenerSpec> listeners = new ArrayList<>();
        private Optional<InFlightBudget> memory = Optional.empty();
        private Duration stallTimeout = ReplyStalls.DEFAULT_TIMEOUT;
        private NbdServerListener listener = NbdServerListener.NONE;

        private Builder() {}

        /**
         * Bounds the memory of requests in flight by {@code budget} (shared with whoever else uses it)
         * instead of the process-wide {@link InFlightBudget#process()}.
         */
        public Builder memoryBudget(InFlightBudget budget) {
            this.memory = Optional.of(budget);
            return this;
        }

        /** Disconnects a client that has not read a reply for {@code timeout} (default 30 s). */
        public Builder replyStallTimeout(Duration timeout) {
            this.stallTimeout = timeout;
            return this;
        }

        /** Who is told of connections and requests (default: nobody). */
        public Builder listener(NbdServerListener listener) {
            this.listener = java.util.Objects.requireNonNull(listener, "listener");
            return this;
        }

        /** Adds an export; see {@link NbdServer#addExport(String, BlockDevice, boolean)}. */
        public Builder export(String name, BlockDevice device, boolean readOnly) {
            exports.add(new Export(name, "", device, readOnly, new GuestIoStats()));
            return this;
        }

        /** Listens on a Unix socket at {@code path} (created by start, a stale one replaced; deleted by close). */
        public Builder listenUnix(Path path) {
            listeners.add(new ListenerSpec(Optional.of(path), "", 0, Optional.empty()));
            return this;
        }

        /** Listens on TCP; with {@code tls} present every client must STARTTLS before anything else. */
        public Builder listenTcp(String host, int port, Optional<SSLContext> tls) {
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("TCP port " + port + " is not in 0..65535");
            }
            listeners.add(new ListenerSpec(Optional.empty(), host, port, tls));
            return this;
        }

        public NbdServer build() {
            if (listeners.isEmpty()) {
                throw new IllegalStateException("an NBD server needs at least one listener");
            }
            return new NbdServer(exports, listeners, memory.orElseGet(InFlightBudget::process), stallTimeout, listener);
        }
    }
}
