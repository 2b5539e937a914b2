package io.siphon.api.remote;

import io.siphon.api.BlockJobInfo;
import io.siphon.api.BlockJobProgress;
import io.siphon.api.DiskInfo;
import io.siphon.api.DomainInfo;
import io.siphon.api.ErrorCode;
import io.siphon.api.SiphonEvent;
import io.siphon.api.SiphonException;
import io.siphon.api.spi.DriverSession;
import io.siphon.protocol.Command;
import io.siphon.protocol.ErrorReply;
import io.siphon.protocol.EventMessage;
import io.siphon.protocol.FrameReader;
import io.siphon.protocol.Greeting;
import io.siphon.protocol.Messages;
import io.siphon.protocol.ProtocolException;
import io.siphon.protocol.Reply;
import io.siphon.protocol.Request;
import io.siphon.protocol.Values;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
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
    private final Map<Long, CompletableFuture<Object>> pending = new ConcurrentHashMap<>();
    private final ExecutorService delivery = Executors.newSingleThreadExecutor(
            Thread.ofVirtual().name("siphon-events").factory());
    private volatile Consumer<SiphonEvent> sink = event -> {};
    private volatile boolean closed;

    /** Reads the greeting from {@code input}; {@code readOnly} makes a read-write server read-only for this client. */
    RemoteSession(String peer, Closeable transport, InputStream input, OutputStream output, boolean readOnly) {
        this.peer = peer;
        this.transport = transport;
        this.out = output;
        this.in = new FrameReader(input);
        Greeting greeting;
        try {
            Optional<String> first = in.next();
            if (first.isEmpty() || !(Messages.decode(first.get()) instanceof Greeting g)) {
                throw new SiphonException(ErrorCode.PROTOCOL_ERROR, peer + " did not greet with a QMP greeting");
            }
            greeting = g;
        } catch (IOException e) {
            closeQuietly();
            throw new SiphonException(
                    ErrorCode.CONNECTION_FAILED, "reading the greeting of " + peer + ": " + e.getMessage(), e);
        } catch (ProtocolException e) {
            closeQuietly();
            throw e.toSiphonException();
        } catch (SiphonException e) {
            closeQuietly();
            throw e;
        }
        this.readOnly = readOnly || greeting.capabilities().contains("read-only");
        Thread.ofVirtual().name("siphon-remote-reader").start(this::readLoop);
    }

    private void readLoop() {
        String why = "connection closed by " + peer;
        try {
            while (true) {
                Optional<String> line = in.next();
                if (line.isEmpty()) {
                    break;
                }
                switch (Messages.decode(line.get())) {
                    case Reply r -> complete(r.id(), r.value(), null);
                    case ErrorReply e ->
                        complete(
                                e.id(), null, new SiphonException(ErrorCode.fromName(e.errorClass()), e.description()));
                    case EventMessage e -> deliver(e);
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

    /** Completes the request {@code id} with {@code value}, or with {@code failure} when it is not null. */
    private void complete(Optional<Object> id, Object value, SiphonException failure) {
        CompletableFuture<Object> waiting = id.orElse(null) instanceof Long key ? pending.remove(key) : null;
        if (waiting == null) {
            LOG.warn("reply from {} with an id no request has: {}", peer, id);
        } else if (failure != null) {
            waiting.completeExceptionally(failure);
        } else {
            waiting.complete(value);
        }
    }

    private void deliver(EventMessage message) {
        Optional<SiphonEvent> event = Values.event(message);
        try {
            event.ifPresent(e -> delivery.execute(() -> sink.accept(e)));
        } catch (RejectedExecutionException e) {
            // the session was closed while this event was on the wire: no listener is left to tell
            LOG.debug("event from {} after close dropped", peer);
        }
    }

    private Object call(Command command, Map<String, Object> arguments) {
        if (readOnly && !command.isQuery()) {
            throw new SiphonException(
                    ErrorCode.READ_ONLY, "'" + command.wireName() + "' is refused on a read-only connection");
        }
        long id = nextId.getAndIncrement();
        CompletableFuture<Object> reply = new CompletableFuture<>();
        pending.put(id, reply);
        if (closed) {
            pending.remove(id);
            throw new SiphonException(ErrorCode.CONNECTION_FAILED, "connection to " + peer + " is closed");
        }
        byte[] line = (Messages.encode(new Request(command.wireName(), arguments, Optional.of(id))) + "\n")
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
            return reply.get();
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

    private static Map<String, Object> args(Object... keyValues) {
        Map<String, Object> map = new LinkedHashMap<>();
        for (int i = 0; i < keyValues.length; i += 2) {
            map.put((String) keyValues[i], keyValues[i + 1]);
        }
        return map;
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
        return Values.domainInfo(call(Command.DOMAIN_DEFINE, args("xml", domainXml)));
    }

    @Override
    public void undefine(String domain) {
        call(Command.DOMAIN_UNDEFINE, args("domain", domain));
    }

    @Override
    public List<DomainInfo> list() {
        Object reply = call(Command.DOMAIN_LIST, args());
        if (!(reply instanceof List<?> list)) {
            throw new SiphonException(ErrorCode.PROTOCOL_ERROR, "domain-list must return an array");
        }
        return list.stream().map(Values::domainInfo).toList();
    }

    @Override
    public DomainInfo info(String domain) {
        return Values.domainInfo(call(Command.DOMAIN_INFO, args("domain", domain)));
    }

    @Override
    public void start(String domain) {
        call(Command.DOMAIN_START, args("domain", domain));
    }

    @Override
    public void shutdown(String domain) {
        call(Command.DOMAIN_SHUTDOWN, args("domain", domain));
    }

    @Override
    public void destroy(String domain) {
        call(Command.DOMAIN_DESTROY, args("domain", domain));
    }

    @Override
    public List<DiskInfo> disks(String domain) {
        Object reply = call(Command.DOMAIN_DISKS, args("domain", domain));
        if (!(reply instanceof List<?> list)) {
            throw new SiphonException(ErrorCode.PROTOCOL_ERROR, "domain-disks must return an array");
        }
        return list.stream().map(Values::diskInfo).toList();
    }

    @Override
    public void blockPull(
            String domain, String disk, Optional<String> base, long bytesPerSecond, boolean keepRelative) {
        Map<String, Object> arguments = args("domain", domain, "disk", disk, "bandwidth-bytes", bytesPerSecond);
        base.ifPresent(b -> arguments.put("base", b));
        if (keepRelative) {
            arguments.put("keep-relative", true);
        }
        call(Command.BLOCK_PULL, arguments);
    }

    @Override
    public BlockJobProgress blockPullStep(String domain, String disk) {
        return Values.progress(call(Command.BLOCK_PULL_STEP, args("domain", domain, "disk", disk)));
    }

    @Override
    public Optional<BlockJobInfo> blockJobInfo(String domain, String disk) {
        Object reply = call(Command.BLOCK_JOB_INFO, args("domain", domain, "disk", disk));
        if (reply instanceof Map<?, ?> map && map.containsKey("job")) {
            return Optional.of(Values.blockJobInfo(map.get("job")));
        }
        return Optional.empty();
    }

    @Override
    public void blockJobAbort(String domain, String disk, boolean async) {
        call(Command.BLOCK_JOB_ABORT, args("domain", domain, "disk", disk, "async", async));
    }

    @Override
    public void blockJobSetSpeed(String domain, String disk, long bytesPerSecond) {
        call(Command.BLOCK_JOB_SET_SPEED, args("domain", domain, "disk", disk, "bandwidth-bytes", bytesPerSecond));
    }

    @Override
    public void blockJobPause(String domain, String disk) {
        call(Command.BLOCK_JOB_PAUSE, args("domain", domain, "disk", disk));
    }

    @Override
    public void blockJobResume(String domain, String disk) {
        call(Command.BLOCK_JOB_RESUME, args("domain", domain, "disk", disk));
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
