package io.siphon.api.remote;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.api.Connection;
import io.siphon.api.ErrorCode;
import io.siphon.api.Siphon;
import io.siphon.api.SiphonException;
import io.siphon.protocol.Greeting;
import io.siphon.protocol.MessageCodec;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A daemon that stops answering must not hang its client: the greeting and every reply are bounded
 * by the URI's {@code timeout}. The peers are real Unix sockets that accept and then stay silent.
 */
class RemoteTimeoutTest {
    @TempDir
    Path dir;

    private final List<SocketChannel> accepted = new CopyOnWriteArrayList<>();
    private ServerSocketChannel server;

    /** A server at {@code socket} that accepts, sends {@code greeting} (if any) and never reads. */
    private String silentPeer(String greeting) throws IOException {
        Path socket = dir.resolve("silent.sock");
        server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(socket));
        Thread.ofVirtual().start(() -> {
            try {
                while (true) {
                    SocketChannel client = server.accept();
                    accepted.add(client);
                    if (greeting != null) {
                        client.write(ByteBuffer.wrap((greeting + "\n").getBytes(StandardCharsets.UTF_8)));
                    }
                }
            } catch (IOException closed) {
                // the test is over
            }
        });
        return "siphon+unix://" + socket;
    }

    @AfterEach
    void closePeers() throws IOException {
        if (server != null) {
            server.close();
        }
        for (SocketChannel c : accepted) {
            c.close();
        }
    }

    @Test
    void aPeerThatNeverGreetsTimesOut() throws IOException {
        String uri = silentPeer(null) + "?timeout=0.3";
        SiphonException e = assertThrows(SiphonException.class, () -> Siphon.connect(uri));
        assertEquals(ErrorCode.OPERATION_TIMEOUT, e.code());
        assertTrue(e.getMessage().contains("sent no greeting within 0.3 s"), e.getMessage());
    }

    @Test
    void aCallWithNoReplyTimesOutAndNamesTheCommand() throws IOException {
        String uri = silentPeer(MessageCodec.encode(new Greeting("0.1.0", List.of("events")))) + "?timeout=0.3";
        try (Connection connection = Siphon.connect(uri)) {
            SiphonException e = assertThrows(SiphonException.class, connection::list);
            assertEquals(ErrorCode.OPERATION_TIMEOUT, e.code());
            assertTrue(e.getMessage().contains("did not answer 'domain-list' within 0.3 s"), e.getMessage());
        }
    }

    @Test
    void timeoutIsPositiveSecondsAndDefaultsToAMinute() {
        assertEquals(ConnectionUris.DEFAULT_TIMEOUT, ConnectionUris.timeout(java.net.URI.create("siphon+unix:///s")));
        assertEquals(
                Duration.ofMillis(1500), ConnectionUris.timeout(java.net.URI.create("siphon+unix:///s?timeout=1.5")));
        for (String bad : List.of("0", "-1", "x", "1e99")) {
            SiphonException e = assertThrows(
                    SiphonException.class,
                    () -> ConnectionUris.timeout(java.net.URI.create("siphon+unix:///s?timeout=" + bad)));
            assertEquals(ErrorCode.INVALID_ARG, e.code(), bad);
        }
    }
}
