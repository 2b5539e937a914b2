package io.siphon.api.remote;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.LongNode;
import io.siphon.api.BlockInfo;
import io.siphon.api.BlockJobInfo;
import io.siphon.api.BlockJobProgress;
import io.siphon.api.BlockStats;
import io.siphon.api.DiskInfo;
import io.siphon.api.DomainInfo;
import io.siphon.api.ErrorCode;
import io.siphon.api.PullStrategy;
import io.siphon.api.SiphonEvent;
import io.siphon.api.SiphonException;
import io.siphon.api.VersionInfo;
import io.siphon.api.spi.DriverSession;
import io.siphon.protocol.Command;
import io.siphon.protocol.ErrorReply;
import io.siphon.protocol.Event;
import io.siphon.protocol.EventMessage;
import io.siphon.protocol.FrameReader;
import io.siphon.protocol.Greeting;
import io.siphon.protocol.MessageCodec;
import io.siphon.protocol.ProtocolException;
import io.siphon.protocol.Reply;
import io.siphon.protocol.Request;
import io.siphon.protocol.Result;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The client side of the control protocol over one stream: a reader thread matches replies to
 * requests by id and hands events, in order, to a delivery thread. Thread-safe: calls from many
 * threads are multiplexed on the stream.
 */
final class RemoteSession implements DriverSession {
    private static final Logger LOG = LoggerFactory.getLogger(RemoteSession.class);

    private final String peer;
    private final Closeable transport;
    private final OutputStream out;
    private final FrameReader in;
    private final boolean readOnly;
    private final AtomicLong nextId = new AtomicLong(1);
    private final Map<Long, CompletableFuture<Reply>> pending = new ConcurrentHashMap<>();
    private final ExecutorService delivery = Executors.newSingleThreadExecutor(
            Thread.ofVirtual().name("siphon-events").factory());
    private volatile Consumer<SiphonEvent> sink = event -> {};
    private final CompletableFuture<Greeting> greeting = new CompletableFuture<>();
    private final Duration timeout;
    private volatile boolean closed;

    /**
     * Waits up to {@code timeout} for the greeting on {@code input}; {@code readOnly} makes a read-write
     * server read-only for this client. Every call then waits up to {@code timeout} for its reply.
     */
    RemoteSession(
            String peer,
            Closeable transport,
            InputStream input,
            OutputStream output,
            boolean readOnly,
            Duration timeout) {
        this.peer = peer;
        this.transport = transport;
        this.out = output;
        this.in = new FrameReader(input);
        this.timeout = timeout;
        // the reader thread reads the greeting too, so that a peer that never greets cannot block us
        Thread.ofVirtual().name("siphon-remote-reader").start(this::readLoop);
        Greeting greeting;
        try {
            greeting = this.greeting.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            close();
            throw new SiphonException(
                    ErrorCode.OPERATION_TIMEOUT, peer + " sent no greeting within " + seconds(timeout) + " s");
        } catch (ExecutionException e) {
            close();
            throw e.getCause() instanceof SiphonException s
                    ? new SiphonException(s.code(), s.getMessage(), s)
                    : new SiphonException(ErrorCode.INTERNAL_ERROR, e.getCause().toString(), e.getCause());
        } catch (InterruptedException e) {
            close();
            Thread.currentThread().interrupt();
            throw new SiphonException(ErrorCode.OPERATION_FAILED, "interrupted waiting for the greeting of " + peer);
        }
        this.readOnly = readOnly || greeting.capabilities().contains("read-only");
    }

    private static String seconds(Duration d) {
        return BigDecimal.valueOf(d.toMillis(), 3).stripTrailingZeros().toPlainString();
    }

    /** Completes {@link #greeting} from the first message, or fails it. */
    private boolean readGreeting() {
        try {
            Optional<String> first = in.next();
            if (first.isEmpty() || !(MessageCodec.decode(first.get()) instanceof Greeting g)) {
                greeting.completeExceptionally(
                        new SiphonException(ErrorCode.PROTOCOL_ERROR, peer + " did not greet with a QMP greeting"));
                return false;
            }
            greeting.complete(g);
            return true;
        } catch (IOException e) {
            greeting.completeExceptionally(new SiphonException(
                    ErrorCode.CONNECTION_FAILED, "reading the greeting of " + peer + ": " + e.getMessage(), e));
        } catch (ProtocolException e) {
            greeting.completeExceptionally(e.toSiphonException());
        } catch (SiphonException e) {
            greeting.completeExceptionally(e);
        }
        return false;
    }

    private void readLoop() {
        if (!readGreeting()) {
            return;
        }
        String why = "connection closed by " + peer;
        try {
            while (true) {
                Optional<String> line = in.next();
                if (line.isEmpty()) {
                    break;
                }
                switch (MessageCodec.decode(line.get())) {
                    case Reply r -> complete(r.id(), r, null);
                    case ErrorReply e ->
                        complete(
                                e.id(), null, new SiphonException(ErrorCode.fromName(e.errorClass()), e.description()));
                    case EventMessage e -> deliver(e.event());
                    default -> LOG.warn("ignoring unexpected message from {}", peer);
                }
            }
        } catch (IOException | ProtocolException | SiphonException e) {
            why = closed ? "connection closed" : "connection to " + peer + " failed: " + e.getMessage();
        }
        closed = true;
        SiphonException failure = new SiphonException(ErrorCode.CONNECTION_FAILED, why);
        pending.values().forEach(f -> f.completeExceptionally(failure));
        pending.clear();
    }

    /** Completes the request {@code id} with {@code reply}, or with {@code failure} when it is not null. */
    private void complete(Optional<JsonNode> id, Reply reply, SiphonException failure) {
        CompletableFuture<Reply> waiting = id.filter(JsonNode::canConvertToExactIntegral)
                .map(key -> pending.remove(key.asLong()))
                .orElse(null);
        if (waiting == null) {
            // also a reply that came after its call timed out
            LOG.warn("reply from {} with an id no waiting request has: {}", peer, id);
        } else if (failure != null) {
            waiting.completeExceptionally(failure);
        } else {
            waiting.complete(reply);
        }
    }

    private void deliver(Event message) {
        Optional<SiphonEvent> event = message.toApi();
        try {
            event.ifPresent(e -> delivery.execute(() -> sink.accept(e)));
        } catch (RejectedExecutionException e) {
            // the session was closed while this event was on the wire: no listener is left to tell
            LOG.debug("event from {} after close dropped", peer);
        }
    }

    /** Sends {@code command} and waits for its result. */
    private <R extends Result> R call(Command<R> command) {
        if (readOnly && !command.isQuery()) {
            throw new SiphonException(
                    ErrorCode.READ_ONLY, "'" + command.wireName() + "' is refused on a read-only connection");
        }
        long id = nextId.getAndIncrement();
        CompletableFuture<Reply> reply = new CompletableFuture<>();
        pending.put(id, reply);
        if (closed) {
            pending.remove(id);
            throw new SiphonException(ErrorCode.CONNECTION_FAILED, "connection to " + peer + " is closed");
        }
        byte[] line = (MessageCodec.encode(new Request(command, Optional.of(LongNode.valueOf(id)))) + "\n")
                .getBytes(StandardCharsets.UTF_8);
        try {
            synchronized (out) {
                out.write(line);
                out.flush();
            }
        } catch (IOException e) {
            pending.remove(id);
            throw new SiphonException(ErrorCode.CONNECTION_FAILED, "sending to " + peer + ": " + e.getMessage(), e);
        }
        try {
            return MessageCodec.result(command, reply.get(timeout.toMillis(), TimeUnit.MILLISECONDS));
        } catch (TimeoutException e) {
            pending.remove(id);
            throw new SiphonException(
                    ErrorCode.OPERATION_TIMEOUT,
                    peer + " did not answer '" + command.wireName() + "' within " + seconds(timeout) + " s");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof SiphonException s) {
                // a fresh exception so the stack shows this call, with the daemon's code and message
                throw new SiphonException(s.code(), s.getMessage(), s);
            }
            throw new SiphonException(ErrorCode.INTERNAL_ERROR, e.getCause().toString(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SiphonException(ErrorCode.OPERATION_FAILED, "interrupted waiting for " + command.wireName(), e);
        }
    }

    @Override
    public boolean isReadOnly() {
        return readOnly;
    }

    @Override
    public void setEventSink(Consumer<SiphonEvent> sink) {
        this.sink = sink;
    }

    @Override
    public DomainInfo define(String domainXml) {
        return call(new Command.DomainDefine(domainXml)).toApi();
    }

    @Override
    public void undefine(String domain) {
        call(new Command.DomainUndefine(domain));
    }

    @Override
    public List<DomainInfo> list() {
        return call(new Command.DomainList()).toApi();
    }

    @Override
    public DomainInfo info(String domain) {
        return call(new Command.DomainInfo(domain)).toApi();
    }

    @Override
    public void start(String domain) {
        call(new Command.DomainStart(domain));
    }

    @Override
    public void shutdown(String domain) {
        call(new Command.DomainShutdown(domain));
    }

    @Override
    public void destroy(String domain) {
        call(new Command.DomainDestroy(domain));
    }

    @Override
    public List<DiskInfo> disks(String domain) {
        return call(new Command.DomainDisks(domain)).toApi();
    }

    @Override
    public String xmlDesc(String domain) {
        return call(new Command.DomainXmlDesc(domain)).xml();
    }

    @Override
    public void setAutostart(String domain, boolean autostart) {
        call(new Command.DomainSetAutostart(domain, autostart));
    }

    @Override
    public BlockInfo blockInfo(String domain, String disk) {
        return call(new Command.BlockInfo(domain, disk)).toApi();
    }

    @Override
    public BlockStats blockStats(String domain, Optional<String> disk) {
        return call(new Command.BlockStats(domain, disk.orElse(null))).toApi();
    }

    @Override
    public void blockPull(
            String domain,
            String disk,
            Optional<String> base,
            long bytesPerSecond,
            boolean keepRelative,
            PullStrategy strategy) {
        call(new Command.BlockPull(domain, disk, base, bytesPerSecond, keepRelative, strategy));
    }

    @Override
    public BlockJobProgress blockPullStep(String domain, String disk) {
        return call(new Command.BlockPullStep(domain, disk)).toApi();
    }

    @Override
    public Optional<BlockJobInfo> blockJobInfo(String domain, String disk) {
        return call(new Command.BlockJobInfo(domain, disk)).toApi();
    }

    @Override
    public void blockJobAbort(String domain, String disk, boolean async) {
        call(new Command.BlockJobAbort(domain, disk, async));
    }

    @Override
    public void blockJobSetSpeed(String domain, String disk, long bytesPerSecond) {
        call(new Command.BlockJobSetSpeed(domain, disk, bytesPerSecond));
    }

    @Override
    public void blockJobPause(String domain, String disk) {
        call(new Command.BlockJobPause(domain, disk));
    }

    @Override
    public void blockJobResume(String domain, String disk) {
        call(new Command.BlockJobResume(domain, disk));
    }

    @Override
    public VersionInfo version() {
        return call(new Command.Version()).toApi();
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            closeQuietly();
        }
        delivery.shutdown();
    }

    private void closeQuietly() {
        try {
            transport.close();
        } catch (IOException e) {
            LOG.debug("closing the connection to {}", peer, e);
        }
    }
}
