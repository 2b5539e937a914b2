package io.siphon.nbd.server;

import io.siphon.block.filter.GuestIoStats;
import io.siphon.nbd.protocol.CommandType;
import io.siphon.nbd.protocol.NbdChannel;
import io.siphon.nbd.protocol.NbdError;
import io.siphon.nbd.protocol.NbdProtocolException;
import io.siphon.nbd.protocol.Request;
import java.io.EOFException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The transmission phase of one connection: this thread reads requests in order; each runs on its
 * own virtual thread and replies when done, so replies may come out of order. Memory is bounded
 * twice: by this connection's budget of in-flight bytes, and by the {@link InFlightBudget} every
 * connection shares; while either is spent, reading waits. A request that still cannot get memory
 * is answered ENOMEM, and no failure of a request thread (an {@link Error} included) escapes it. A
 * protocol violation ends this connection only. Each data request is timed from its header's
 * arrival to its reply written, into the export's {@link GuestIoStats}.
 */
final class Session {
    private static final Logger LOG = LoggerFactory.getLogger(Session.class);
    private static final Duration SHARED_WAIT_SLICE = Duration.ofMillis(200);

    private final NbdChannel channel;
    private final Export export;
    private final Replies replies;
    private final CommandRunner runner;
    private final BufferPool buffers;
    private final Semaphore budget = new Semaphore(WireLimits.IN_FLIGHT_BUDGET_BYTES);
    private final InFlightBudget shared;

    private final NbdServerListener listener;
    private final GuestIoStats guestIo;

    Session(
            Handshake.Agreement agreement,
            BufferPool buffers,
            InFlightBudget shared,
            ReplyStalls stalls,
            NbdServerListener listener) {
        this.listener = listener;
        this.channel = agreement.channel();
        this.export = agreement.export();
        this.guestIo = export.guestIo();
        this.buffers = buffers;
        this.shared = shared;
        this.replies = new Replies(channel, stalls);
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
                // the guest's clock starts here: waiting for memory or a thread is part of its latency
                long arrivalNanos = System.nanoTime();
                boolean counted = Export.countsAsGuestIo(type.get());
                if (counted) {
                    guestIo.started();
                }
                boolean handedOver = false;
                try {
                    int cost = cost(request, type.get());
                    budget.acquireUninterruptibly(cost);
                    if (!takeShared(cost)) {
                        budget.release(cost);
                        return; // closed while waiting
                    }
                    ByteBuffer payload;
                    try {
                        payload = payload(request, type.get());
                    } catch (IOException | RuntimeException e) {
                        release(cost);
                        throw e;
                    } catch (OutOfMemoryError e) {
                        release(cost);
                        refuseWrite(request, e);
                        continue;
                    }
                    workers.execute(() -> runOne(request, type.get(), payload, cost, counted, arrivalNanos));
                    handedOver = true;
                } finally {
                    if (!handedOver) {
                        guestDone(
                                request,
                                type.get(),
                                counted,
                                arrivalNanos); // ended here: it must not seem in flight forever
                    }
                }
            }
            // Closing the executor waits for requests in flight: DISC promises their replies.
        }
    }

    /** Waits for the shared budget, checking now and then that the connection is still open. */
    private boolean takeShared(int cost) throws IOException {
        try {
            while (!shared.tryTake(cost, SHARED_WAIT_SLICE)) {
                if (!channel.socket().isOpen()) {
                    return false;
                }
            }
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("waiting for NBD buffer memory");
        }
    }

    private void release(int cost) {
        shared.give(cost);
        budget.release(cost);
    }

    /** A WRITE whose payload found no memory: its bytes are skipped, to stay in step, and it gets ENOMEM. */
    private void refuseWrite(Request request, OutOfMemoryError e) throws IOException {
        LOG.warn(
                "WRITE of {} bytes on '{}' refused: no memory ({})",
                request.lengthBytes(),
                export.name(),
                e.getMessage());
        ByteBuffer scratch = ByteBuffer.allocate(64 << 10);
        long left = request.lengthBytes();
        while (left > 0) {
            channel.readFully(scratch.clear().limit((int) Math.min(scratch.capacity(), left)));
            left -= scratch.limit();
        }
        replies.simple(request.cookie(), NbdError.ENOMEM.code());
    }

    private void runOne(
            Request request, CommandType type, ByteBuffer payload, int cost, boolean counted, long arrivalNanos) {
        boolean timed = false;
        try {
            boolean ok = runner.run(request, type, payload);
            long nanos = guestDone(request, type, counted, arrivalNanos);
            timed = true;
            Listened.run(() -> listener.requestDone(export.name(), type, request.lengthBytes(), nanos, !ok));
        } catch (IOException e) {
            LOG.debug("reply to {} on '{}' not sent: {}", type, export.name(), e.toString());
            closeQuietly();
        } catch (RuntimeException | Error e) {
            // the runner answers what fails in the device; this is what fails around it (no memory for a read)
            LOG.warn("{} on '{}' failed: {}", type, export.name(), e.toString());
            try {
                runner.refuse(request, type, NbdError.ENOMEM, type + " could not be served: " + e.getMessage());
            } catch (IOException | RuntimeException | Error replyFailure) {
                LOG.debug("error reply to {} on '{}' not sent: {}", type, export.name(), replyFailure.toString());
                closeQuietly();
            }
        } finally {
            if (payload != null) {
                buffers.give(payload);
            }
            release(cost);
            if (!timed) {
                guestDone(request, type, counted, arrivalNanos); // failed: it must not seem in flight forever
            }
        }
    }

    /** Counts a guest request as done now, if it was counted; returns its time since arrival. */
    private long guestDone(Request request, CommandType type, boolean counted, long arrivalNanos) {
        long nanos = System.nanoTime() - arrivalNanos;
        if (counted) {
            guestIo.completed(Export.guestIoKind(type), request.lengthBytes(), nanos);
        }
        return nanos;
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
