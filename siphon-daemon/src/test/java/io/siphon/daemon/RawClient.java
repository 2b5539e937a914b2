package io.siphon.daemon;

import com.fasterxml.jackson.core.exc.InputCoercionException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.siphon.protocol.FrameReader;
import io.siphon.protocol.ProtocolException;
import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/** A control-protocol client that sends raw bytes and reads replies as JSON, as socat would. */
final class RawClient implements AutoCloseable {
    /** Integers as Long, as the tests compare them. */
    private static final JsonMapper JSON = JsonMapper.builder()
            .enable(DeserializationFeature.USE_LONG_FOR_INTS)
            .build();

    /** Integers of any size, for the replies whose id is beyond a long. */
    private static final JsonMapper WIDE_JSON = new JsonMapper();

    private final SocketChannel channel;
    private final FrameReader reader;

    RawClient(Path socket) throws IOException {
        channel = SocketChannel.open(UnixDomainSocketAddress.of(socket));
        reader = new FrameReader(Channels.newInputStream(channel));
    }

    void send(String text) throws IOException {
        send(text.getBytes(StandardCharsets.UTF_8));
    }

    /** Sends raw bytes, which need not be UTF-8 or whole lines. */
    void send(byte[] raw) throws IOException {
        ByteBuffer bytes = ByteBuffer.wrap(raw);
        while (bytes.hasRemaining()) {
            channel.write(bytes);
        }
    }

    /** The next message as a JSON object, or empty when the daemon closed the connection. */
    Optional<Map<?, ?>> next() throws IOException, ProtocolException {
        Optional<String> line = reader.next();
        if (line.isEmpty()) {
            return Optional.empty();
        }
        try {
            return Optional.of(JSON.readValue(line.get(), Map.class));
        } catch (InputCoercionException e) {
            return Optional.of(WIDE_JSON.readValue(line.get(), Map.class)); // an id beyond a long, echoed back
        }
    }

    /** The next message that is not an event. */
    Map<?, ?> reply() throws IOException, ProtocolException {
        while (true) {
            Map<?, ?> message = next().orElseThrow(() -> new AssertionError("connection closed instead of a reply"));
            if (!message.containsKey("event")) {
                return message;
            }
        }
    }

    /** The error class of the next reply, or "none" when it succeeded. */
    String errorClass() throws IOException, ProtocolException {
        Map<?, ?> reply = reply();
        return reply.get("error") instanceof Map<?, ?> error ? (String) error.get("class") : "none";
    }

    void shutdownOutput() throws IOException {
        channel.shutdownOutput();
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
