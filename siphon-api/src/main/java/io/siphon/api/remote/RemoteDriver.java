package io.siphon.api.remote;

import io.siphon.api.ErrorCode;
import io.siphon.api.SiphonException;
import io.siphon.api.spi.Driver;
import io.siphon.api.spi.DriverSession;
import java.io.IOException;
import java.net.URI;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.Set;

/**
 * The driver that talks to a Siphon daemon over the control protocol: {@code siphon+unix:///SOCKET}
 * and {@code siphon:///session} (the per-user daemon, started on demand). Thread-safe.
 */
public final class RemoteDriver implements Driver {
    @Override
    public Set<String> schemes() {
        return Set.of("siphon", "siphon+unix", "siphon+tls");
    }

    @Override
    public DriverSession open(URI uri) {
        boolean readOnly = ConnectionUris.readOnly(uri);
        return switch (uri.getScheme()) {
            case "siphon+unix" -> {
                String path = uri.getPath();
                if (path == null || path.isEmpty()) {
                    throw new SiphonException(ErrorCode.INVALID_ARG, "URI '" + uri + "' names no socket path");
                }
                yield openUnix(Path.of(path), readOnly);
            }
            case "siphon" -> {
                if (!"/session".equals(uri.getPath())) {
                    throw new SiphonException(
                            ErrorCode.NO_SUPPORT,
                            "URI '" + uri + "': only siphon:///session is served (per-user daemon)");
                }
                SessionDaemon daemon = SessionDaemon.forCurrentUser();
                daemon.ensureRunning();
                yield openUnix(daemon.socket(), readOnly);
            }
            default ->
                throw new SiphonException(
                        ErrorCode.NO_SUPPORT, "URI '" + uri + "': TLS transport is not built in this version");
        };
    }

    /** A session over the daemon's Unix socket at {@code socket}. */
    static DriverSession openUnix(Path socket, boolean readOnly) {
        SocketChannel channel;
        try {
            channel = SocketChannel.open(UnixDomainSocketAddress.of(socket));
        } catch (IOException e) {
            throw new SiphonException(
                    ErrorCode.CONNECTION_FAILED, "cannot connect to the daemon socket " + socket + ": " + e, e);
        }
        return new RemoteSession(
                socket.toString(),
                channel,
                Channels.newInputStream(channel),
                Channels.newOutputStream(channel),
                readOnly);
    }
}
