package io.siphon.daemon;

import io.siphon.api.ErrorCode;
import io.siphon.api.spi.DriverSession;
import io.siphon.api.spi.EngineSession;
import io.siphon.protocol.CommandDispatcher;
import io.siphon.protocol.ErrorReply;
import io.siphon.protocol.Event;
import io.siphon.protocol.EventMessage;
import io.siphon.protocol.FrameReader;
import io.siphon.protocol.Greeting;
import io.siphon.protocol.Message;
import io.siphon.protocol.MessageCodec;
import io.siphon.protocol.ProtocolException;
import io.siphon.protocol.Request;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client of the control server: greets, then reads commands one at a time and replies in
 * order, while events are written between replies. A malformed message gets an error reply; an
 * oversized one, or one cut off, closes the connection. Runs on its own virtual thread.
 */
final class ControlClient implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(ControlClient.class);

    private final String name;
    private final InputStream in;
    private final Closeable channel;
    private final SessionFactory sessions;
    private final boolean readOnly;
    private final Runnable onExit;
    private final OutputStream out;
    private final ControlCounters counters;

    /** A client reading {@code in} and writing {@code out}; closing {@code channel} ends both. */
    ControlClient(
            String name,
            InputStream in,
            OutputStream out,
            Closeable channel,
            SessionFactory sessions,
            boolean readOnly,
            ControlCounters counters,
            Runnable onExit) {
        this.counters = counters;
        this.name = name;
        this.in = in;
        this.out = out;
        this.channel = channel;
        this.sessions = sessions;
        this.readOnly = readOnly;
        this.onExit = onExit;
    }

    @Override
    public void run() {
        LOG.info("client {} connected{}", name, readOnly ? " (read-only)" : "");
        String why = "closed the connection";
        try (DriverSession session = sessions.open(readOnly, this::cutOff)) {
            List<String> capabilities = readOnly ? List.of("events", "read-only") : List.of("events");
            if (!send(new Greeting(MessageCodec.VERSION, capabilities))) {
                return;
            }
            // the greeting is the first line (ControlFuzzTest once met an event before it); events
            // emitted meanwhile wait in the session for this sink
            session.setEventSink(event -> send(new EventMessage(Event.of(event), micros(Instant.now()))));
            CommandDispatcher dispatcher = new CommandDispatcher(session);
            FrameReader reader = new FrameReader(in);
            while (true) {
                Optional<String> line;
                try {
                    line = reader.next();
                } catch (ProtocolException e) {
                    // the stream is out of step (oversized or cut message): say why, then close
                    send(e.toReply());
                    why = "sent a bad frame: " + e.getMessage();
                    break;
                }
                if (line.isEmpty()) {
                    break;
                }
                Message reply;
                String command = ControlCounters.INVALID;
                try {
                    if (MessageCodec.decode(line.get()) instanceof Request request) {
                        command = request.command().wireName();
                        reply = dispatcher.dispatch(request);
                        if (reply instanceof ErrorReply error) {
                            LOG.debug(
                                    "client {}: {} refused: {}",
                                    name,
                                    request.command().wireName(),
                                    error.description());
                        }
                    } else {
                        reply = new ErrorReply(
                                ErrorCode.PROTOCOL_ERROR.name(),
                                "a client sends only commands ('execute')",
                                Optional.empty());
                    }
                } catch (ProtocolException e) {
                    reply = e.toReply();
                } catch (RuntimeException e) {
                    LOG.error("client {}: command failed unexpectedly", name, e);
                    reply = new ErrorReply(ErrorCode.INTERNAL_ERROR.name(), e.toString(), Optional.empty());
                }
                counters.count(
                        command,
                        reply instanceof ErrorReply error ? Optional.of(error.errorClass()) : Optional.empty());
                if (!send(reply)) {
                    why = "went away before the reply";
                    break;
                }
            }
        } catch (IOException e) {
            why = "connection failed: " + e.getMessage();
        } finally {
            try {
                channel.close();
            } catch (IOException e) {
                LOG.debug("closing client {}", name, e);
            }
            LOG.info("client {} disconnected: {}", name, why);
            onExit.run();
        }
    }

    /** A client that reads no events would hold them all in memory: it is disconnected instead. */
    private void cutOff() {
        LOG.warn("client {}: {} events unread; disconnecting it", name, EngineSession.MAX_PENDING_EVENTS);
        try {
            channel.close();
        } catch (IOException e) {
            LOG.debug("closing client {}", name, e);
        }
    }

    /** Writes one message; false when the client is gone. */
    private boolean send(Message message) {
        byte[] line = (MessageCodec.encode(message) + "\n").getBytes(StandardCharsets.UTF_8);
        synchronized (out) {
            try {
                out.write(line);
                out.flush();
                return true;
            } catch (IOException e) {
                LOG.debug("client {}: write failed: {}", name, e.toString());
                try {
                    channel.close();
                } catch (IOException closeFailure) {
                    e.addSuppressed(closeFailure);
                }
                return false;
            }
        }
    }

    private static long micros(Instant instant) {
        return ChronoUnit.MICROS.between(Instant.EPOCH, instant);
    }
}
