package io.siphon.net;

import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.net.ProtocolFamily;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;

/** The client side: blocking connections to a Unix socket or a TCP port. Stateless. */
public final class Connect {
    private Connect() {}

    /** A connection to the Unix socket {@code socket}. */
    public static SocketChannel unix(Path socket) throws IOException {
        SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            channel.connect(UnixDomainSocketAddress.of(socket));
            return channel;
        } catch (IOException e) {
            channel.close();
            throw new IOException("cannot connect to Unix socket " + socket + ": " + e.getMessage(), e);
        }
    }

    /** A connection to {@code host}:{@code port}, with Nagle's delay off (requests are written whole). */
    public static SocketChannel tcp(String host, int port) throws IOException {
        InetSocketAddress address = new InetSocketAddress(host, port);
        if (address.isUnresolved()) {
            throw new IOException("cannot connect to " + host + ":" + port + ": unknown host");
        }
        SocketChannel channel = SocketChannel.open(family(address));
        try {
            channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
            channel.connect(address);
            return channel;
        } catch (IOException e) {
            channel.close();
            throw new IOException("cannot connect to " + host + ":" + port + ": " + e.getMessage(), e);
        }
    }

    /** IPv4 or IPv6, as the resolved {@code address} is. */
    static ProtocolFamily family(InetSocketAddress address) {
        return address.getAddress() instanceof Inet6Address
                ? StandardProtocolFamily.INET6
                : StandardProtocolFamily.INET;
    }

    /** Whether a process accepts connections on the Unix socket {@code socket} now. */
    public static boolean answers(Path socket) {
        if (!Files.exists(socket)) {
            return false;
        }
        try (SocketChannel probe = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
            return probe.isConnected();
        } catch (IOException e) {
            return false;
        }
    }
}
