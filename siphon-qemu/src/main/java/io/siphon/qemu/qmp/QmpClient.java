package io.siphon.qemu.qmp;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.siphon.api.ErrorCode;
import io.siphon.api.SiphonException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A client of one QEMU monitor socket (QMP, QEMU's {@code docs/interop/qmp-spec.rst}): reads the
 * greeting, leaves negotiation mode, runs commands matched to replies by id, and delivers events to
 * listeners in order on its own thread (so a listener may run commands). When the socket closes or
 * the process dies, every waiting call fails with a {@link ErrorCode#CONNECTION_FAILED}
 * {@link SiphonException}. Thread-safe.
 */
public final class QmpClient implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(QmpClient.class);

    /** How long a command waits for its reply unless told otherwise. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);

    private final Path socket;
    private final SocketChannel channel;
    private final OutputStream out;
    private final AtomicLong ids = new AtomicLong();
    private final Map<String, CompletableFuture<JsonNode>> pending = new ConcurrentHashMap<>();
    private final CompletableFuture<JsonNode> greeting = new CompletableFuture<>();
    private final CompletableFuture<SiphonException> closed = new CompletableFuture<>();
    private final List<Consumer<QmpEvent>> listeners = new CopyOnWriteArrayList<>();
    private final ExecutorService delivery;
    private volatile boolean closing;

    private QmpClient(Path socket, SocketChannel channel) {
        this.socket = socket;
        this.channel = channel;
        this.out = Channels.newOutputStream(channel);
        this.delivery = Executors.newSingleThreadExecutor(
                Thread.ofVirtual().name("qmp-events-" + socket.getFileName()).factory());
    }

    /**
     * Connects to the monitor on {@code socket}, reads the greeting and sends {@code
     * qmp_capabilities}, each within {@code timeout}; a failure is {@link ErrorCode#CONNECTION_FAILED}.
     */
    public static QmpClient connect(Path socket, Duration timeout) {
        SocketChannel channel;
        try {
            channel = SocketChannel.open(UnixDomainSocketAddress.of(socket));
        } catch (IOException e) {
            throw new SiphonException(
                    ErrorCode.CONNECTION_FAILED, "cannot connect to the QMP socket " + socket + ": " + e, e);
        }
        QmpClient client = new QmpClient(socket, channel);
        Thread.ofVirtual().name("qmp-reader-" + socket.getFileName()).start(client::readLoop);
        try {
            client.await(client.greeting, "the QMP greeting", timeout);
            client.execute(new QmpCommand.Capabilities(), timeout);
            return client;
        } catch (SiphonException e) {
            client.close();
            throw e;
        }
    }

    /** The greeting's {@code QMP} object: {@code version} and {@code capabilities}. */
    public JsonNode greeting() {
        return greeting.getNow(QmpJson.MAPPER.createObjectNode());
    }

    /** The socket this client is connected to. */
    public Path socket() {
        return socket;
    }

    /** Runs {@code command} and waits up to {@link #DEFAULT_TIMEOUT} for its reply. */
    public <R> R execute(QmpCommand<R> command) {
        return execute(command, DEFAULT_TIMEOUT);
    }

    /**
     * Runs {@code command} and waits up to {@code timeout} for its reply. QEMU's refusal is an
     * {@link ErrorCode#OPERATION_FAILED} whose cause is a {@link QmpErrorException}; a lost
     * connection is {@link ErrorCode#CONNECTION_FAILED}; no reply in time is {@link
     * ErrorCode#OPERATION_FAILED}.
     */
    public <R> R execute(QmpCommand<R> command, Duration timeout) {
        String id = "siphon-" + ids.incrementAndGet();
        CompletableFuture<JsonNode> reply = new CompletableFuture<>();
        pending.put(id, reply);
        try {
            send(command, id);
            JsonNode message = await(reply, "the reply to '" + command.name() + "'", timeout);
            JsonNode error = message.get("error");
            if (error != null) {
                QmpErrorException refusal = new QmpErrorException(
                        command.name(),
                        error.path("class").asText("GenericError"),
                        error.path("desc").asText(""));
                throw new SiphonException(
                        ErrorCode.OPERATION_FAILED,
                        "QEMU refused '" + command.name() + "': " + refusal.desc() + " (" + refusal.errorClass() + ")",
                        refusal);
            }
            return parse(command, message.path("return"));
        } finally {
            pending.remove(id);
        }
    }

    private static <R> R parse(QmpCommand<R> command, JsonNode value) {
        if (command.replyType() == QmpCommand.Done.class) {
            return command.replyType().cast(QmpCommand.Done.DONE);
        }
        try {
            return QmpJson.MAPPER.treeToValue(value, command.replyType());
        } catch (JsonProcessingException | IllegalArgumentException e) {
            throw new SiphonException(
                    ErrorCode.PROTOCOL_ERROR,
                    "unexpected reply to '" + command.name() + "': " + value + " (" + e.getMessage() + ")",
                    e);
        }
    }

    private void send(QmpCommand<?> command, String id) {
        ObjectNode message = QmpJson.MAPPER.createObjectNode();
        message.put("execute", command.name());
        message.set("arguments", QmpJson.MAPPER.valueToTree(command.arguments()));
        message.put("id", id);
        byte[] bytes = (message + "\n").getBytes(StandardCharsets.UTF_8);
        SiphonException lost = closed.getNow(null);
        if (lost != null) {
            throw lost(lost);
        }
        try {
            synchronized (out) {
                out.write(bytes);
                out.flush();
            }
        } catch (IOException e) {
            shutDown(connectionLost("writing '" + command.name() + "' failed: " + e));
            throw lost(closed.join());
        }
    }

    private <T> T await(CompletableFuture<T> future, String what, Duration timeout) {
        CompletableFuture<Object> either = CompletableFuture.anyOf(future, closed);
        try {
            either.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            throw new SiphonException(
                    ErrorCode.OPERATION_FAILED,
                    "no " + what + " on QMP socket " + socket + " within " + timeout.toMillis() + " ms");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SiphonException(ErrorCode.OPERATION_FAILED, "interrupted waiting for " + what);
        } catch (ExecutionException e) {
            throw new IllegalStateException("a QMP future failed", e.getCause());
        }
        if (future.isDone()) {
            return future.join();
        }
        throw lost(closed.join());
    }

    /** A fresh exception for this caller's stack, with the connection's end as the cause. */
    private static SiphonException lost(SiphonException end) {
        return new SiphonException(end.code(), end.getMessage(), end);
    }

    private void readLoop() {
        SiphonException end;
        try (InputStream in = Channels.newInputStream(channel);
                MappingIterator<JsonNode> messages =
                        QmpJson.MAPPER.readerFor(JsonNode.class).readValues(in)) {
            while (messages.hasNextValue()) {
                dispatch(messages.nextValue());
            }
            end = connectionLost("QEMU closed the connection");
        } catch (IOException | RuntimeException e) {
            end = connectionLost(closing ? "closed by Siphon" : "reading failed: " + e);
        }
        shutDown(end);
    }

    private SiphonException connectionLost(String why) {
        return new SiphonException(ErrorCode.CONNECTION_FAILED, "QMP connection " + socket + " lost: " + why);
    }

    private void dispatch(JsonNode message) {
        if (message.has("QMP")) {
            greeting.complete(message.get("QMP"));
        } else if (message.has("event")) {
            QmpEvent event = new QmpEvent(
                    message.get("event").asText(),
                    message.has("data") ? message.get("data") : QmpJson.MAPPER.createObjectNode(),
                    Instant.ofEpochSecond(
                            message.path("timestamp").path("seconds").asLong(),
                            message.path("timestamp").path("microseconds").asLong() * 1000));
            try {
                delivery.execute(() -> deliver(event));
            } catch (java.util.concurrent.RejectedExecutionException e) {
                LOG.debug("QMP {}: event {} after close", socket, event.name());
            }
        } else {
            CompletableFuture<JsonNode> reply = pending.get(message.path("id").asText(""));
            if (reply != null) {
                reply.complete(message);
            } else {
                LOG.warn("QMP {}: a reply nobody waits for: {}", socket, message);
            }
        }
    }

    private void deliver(QmpEvent event) {
        for (Consumer<QmpEvent> listener : listeners) {
            try {
                listener.accept(event);
            } catch (RuntimeException e) {
                LOG.warn("QMP {}: event listener failed on {}", socket, event.name(), e);
            }
        }
    }

    private void shutDown(SiphonException end) {
        if (!closed.complete(end)) {
            return;
        }
        try {
            channel.close();
        } catch (IOException e) {
            LOG.debug("closing QMP socket {}", socket, e);
        }
        delivery.shutdown();
    }

    /**
     * Registers {@code listener} for every event; it runs on this client's delivery thread. Close
     * the result to remove it.
     */
    public AutoCloseable addEventListener(Consumer<QmpEvent> listener) {
        listeners.add(listener);
        return () -> listeners.remove(listener);
    }

    /** Completes with the reason once the connection has ended (QEMU exited, socket closed, {@link #close}). */
    public CompletableFuture<SiphonException> closed() {
        return closed;
    }

    /** Whether the connection has ended. */
    public boolean isClosed() {
        return closed.isDone();
    }

    /** Closes the socket; waiting calls fail. Idempotent. */
    @Override
    public void close() {
        closing = true;
        shutDown(connectionLost("closed by Siphon"));
    }
}
