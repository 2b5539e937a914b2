package io.siphon.nbd.server;

import io.siphon.nbd.protocol.CommandType;
import io.siphon.nbd.protocol.NbdChannel;
import io.siphon.nbd.protocol.NbdError;
import io.siphon.nbd.protocol.NbdProtocolException;
import io.siphon.nbd.protocol.Request;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The transmission phase of one connection: this thread reads requests in order; each runs on its
 * own virtual thread and replies when done, so replies may come out of order. Memory is bounded by
 * a budget of in-flight bytes: when it is spent, reading waits. A protocol violation ends this
 * connection only.
 */
final class Session {
    private static final Logger LOG = LoggerFactory.getLogger(Session.class);

    private final NbdChannel channel;
    private final Export export;
    private final Replies replies;
    private final CommandRunner runner;
    private final BufferPool buffers;
    private final Semaphore budget = new Semaphore(WireLimits.IN_FLIGHT_BUDGET_BYTES);

    private final NbdServerListener listener;

    Session(Handshake.Agreement agreement, BufferPool buffers, NbdServerListener listener) {
        this.listener = listener;
        this.channel = agreement.channel();
        this.export = agreement.export();
        this.buffers = buffers;
        this.replies = new Replies(channel);
        this.runner = new CommandRunner(
                export, replies, buffers, agreement.structuredReplies(), agreement.allocationContext());
    }

    Export export() {
        return export;
    }

    /** Serves requests until the client disconnects, breaks the protocol, or the channel is closed. */
    void serve() throws IOException {
        ByteBuffer header = ByteBuffer.allocate(Request.BYTES);
        try (ExecutorService workers = Executors.newVirtualThreadPerTaskExecutor()) {
            while (true) {
                header.clear();
                try {
                    channel.readFully(header);
                } catch (EOFException e) {
                    LOG.debug("client of '{}' left without DISC", export.name());
                    return;
                }
                Request request = Request.decode(header.flip());
                Optional<CommandType> type = CommandType.of(request.type());
                if (type.isEmpty()) {
                    // Unknown commands carry no payload we know of; the spec's answer is EINVAL.
                    replies.simple(request.cookie(), NbdError.EINVAL.code());
                    continue;
                }
                if (type.get() == CommandType.DISC) {
                    return;
                }
                int cost = cost(request, type.get());
                budget.acquireUninterruptibly(cost);
                ByteBuffer payload;
                try {
                    payload = payload(request, type.get());
                } catch (IOException | RuntimeException e) {
                    budget.release(cost);
                    throw e;
                }
                workers.execute(() -> runOne(request, type.get(), payload, cost));
            }
            // Closing the executor waits for requests in flight: DISC promises their replies.
        }
    }

    private void runOne(Request request, CommandType type, ByteBuffer payload, int cost) {
        long start = System.nanoTime();
        try {
            boolean ok = runner.run(request, type, payload);
            long nanos = System.nanoTime() - start;
            Listened.run(() -> listener.requestDone(export.name(), type, request.lengthBytes(), nanos, !ok));
        } catch (IOException e) {
            LOG.debug("reply to {} on '{}' not sent: {}", type, export.name(), e.toString());
            closeQuietly();
        } finally {
            if (payload != null) {
                buffers.give(payload);
            }
            budget.release(cost);
        }
    }

    /** Bytes the request holds while in flight: its payload or its reply's data. */
    private static int cost(Request request, CommandType type) {
        boolean carriesData = (type == CommandType.WRITE || type == CommandType.READ)
                && request.lengthBytes() <= WireLimits.MAX_PAYLOAD_BYTES;
        long bytes = carriesData ? request.lengthBytes() : 0;
        return (int) Math.max(bytes, WireLimits.MIN_REQUEST_COST_BYTES);
    }

    private ByteBuffer payload(Request request, CommandType type) throws IOException {
        if (type != CommandType.WRITE) {
            return null;
        }
        if (request.lengthBytes() > WireLimits.MAX_PAYLOAD_BYTES) {
            // Reading past a payload this large to stay in step would let a client make us swallow 4 GiB.
            replies.simple(request.cookie(), NbdError.EINVAL.code());
            throw new NbdProtocolException("WRITE of " + request.lengthBytes() + " bytes exceeds the maximum "
                    + WireLimits.MAX_PAYLOAD_BYTES + "; disconnecting");
        }
        ByteBuffer payload = buffers.take((int) request.lengthBytes());
        try {
            channel.readFully(payload);
        } catch (IOException | RuntimeException e) {
            buffers.give(payload);
            throw e;
        }
        return payload.flip();
    }

    void closeQuietly() {
        try {
            channel.close();
        } catch (IOException e) {
            LOG.debug("closing a connection to '{}': {}", export.name(), e.toString());
        }
    }
}
