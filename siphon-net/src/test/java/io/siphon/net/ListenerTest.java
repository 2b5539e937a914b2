package io.siphon.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Unix and TCP listeners on real sockets. */
class ListenerTest {
    @TempDir
    Path dir;

    private final BlockingQueue<SocketChannel> accepted = new LinkedBlockingQueue<>();

    /** Connects through {@code connect}, and checks that the listener's handler got the other end. */
    private void roundTrip(SocketChannel client) throws Exception {
        try (client) {
            SocketChannel server = accepted.poll(30, TimeUnit.SECONDS);
            assertNotNull(server, "the handler was not given the connection");
            try (server) {
                client.write(ByteBuffer.wrap(new byte[] {7}));
                ByteBuffer in = ByteBuffer.allocate(1);
                assertEquals(1, server.read(in));
                assertEquals(7, in.get(0));
            }
        }
    }

    /** The connection a liveness probe made: accepted like any other, then closed by the prober. */
    private void acceptProbe() throws Exception {
        SocketChannel probe = accepted.poll(30, TimeUnit.SECONDS);
        assertNotNull(probe, "the probe's connection was not accepted");
        probe.close();
    }

    @Test
    void aUnixListenerSetsPermissionsAcceptsAndRemovesItsFileOnClose() throws Exception {
        Path socket = dir.resolve("s.sock");
        Listener listener = Listener.unix(socket, PosixFilePermissions.fromString("rw-------"));
        listener.start("test", accepted::add);
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(socket)));
        assertTrue(Connect.answers(socket));
        acceptProbe();
        roundTrip(Connect.unix(socket));
        listener.close();
        assertFalse(Files.exists(socket));
        assertFalse(Connect.answers(socket));
    }

    @Test
    void aStaleSocketFileIsReplacedButALiveOneIsNot() throws Exception {
        Path socket = dir.resolve("s.sock");
        // a killed process leaves its socket file: closing a channel does not remove it
        try (ServerSocketChannel dead = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            dead.bind(UnixDomainSocketAddress.of(socket));
        }
        assertTrue(Files.exists(socket));
        try (Listener listener = Listener.unix(socket)) {
            listener.start("test", accepted::add);
            roundTrip(Connect.unix(socket));
            SocketInUseException inUse = assertThrows(SocketInUseException.class, () -> Listener.unix(socket));
            assertEquals(socket, inUse.socket());
            acceptProbe();
            roundTrip(Connect.unix(socket)); // the live listener is untouched
        }
    }

    @Test
    void aFileThatIsNotASocketIsNeverReplaced() throws Exception {
        Path file = Files.writeString(dir.resolve("notes.txt"), "keep me");
        IOException e = assertThrows(IOException.class, () -> Listener.unix(file));
        assertTrue(e.getMessage().contains(file.toString()), e::getMessage);
        assertEquals("keep me", Files.readString(file));
    }

    @Test
    void aTcpListenerOnPortZeroReportsItsPortAndAccepts() throws Exception {
        try (Listener listener = Listener.tcp(new InetSocketAddress("127.0.0.1", 0))) {
            listener.start("test", accepted::add);
            assertTrue(listener.tcpPort() > 0);
            assertTrue(listener.socketFile().isEmpty());
            roundTrip(Connect.tcp("127.0.0.1", listener.tcpPort()));
            IOException taken = assertThrows(
                    IOException.class, () -> Listener.tcp(new InetSocketAddress("127.0.0.1", listener.tcpPort())));
            assertTrue(taken.getMessage().contains("127.0.0.1:" + listener.tcpPort()), taken::getMessage);
        }
    }

    @Test
    void connectingWhereNothingListensNamesTheAddress() throws Exception {
        Path socket = dir.resolve("nobody.sock");
        IOException e = assertThrows(IOException.class, () -> Connect.unix(socket));
        assertTrue(e.getMessage().contains(socket.toString()), e::getMessage);
    }
}
