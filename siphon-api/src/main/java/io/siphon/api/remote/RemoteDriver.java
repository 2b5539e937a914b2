package io.siphon.api.remote;

import io.siphon.api.ErrorCode;
import io.siphon.api.SiphonException;
import io.siphon.api.spi.Driver;
import io.siphon.api.spi.DriverSession;
import io.siphon.net.Connect;
import io.siphon.net.PemTls;
import io.siphon.net.TlsPolicy;
import java.io.IOException;
import java.net.URI;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

/**
 * The driver that talks to a Siphon daemon over the control protocol: {@code siphon+unix:///SOCKET},
 * {@code siphon:///session} (the per-user daemon, started on demand) and {@code
 * siphon+tls://HOST:PORT/?cert=FILE&key=FILE&ca=FILE} (TCP with mutual TLS); {@code ?timeout=SECONDS}
 * (default 60) bounds the wait for the greeting and for each reply. Thread-safe.
 */
public final class RemoteDriver implements Driver {
    @Override
    public Set<String> schemes() {
        return Set.of("siphon", "siphon+unix", "siphon+tls");
    }

    @Override
    public DriverSession open(URI uri) {
        boolean readOnly = ConnectionUris.readOnly(uri);
        Duration timeout = ConnectionUris.timeout(uri);
        return switch (uri.getScheme()) {
            case "siphon+unix" -> {
                String path = uri.getPath();
                if (path == null || path.isEmpty()) {
                    throw new SiphonException(ErrorCode.INVALID_ARG, "URI '" + uri + "' names no socket path");
                }
                yield openUnix(Path.of(path), readOnly, timeout);
            }
            case "siphon" -> {
                if (!"/session".equals(uri.getPath())) {
                    throw new SiphonException(
                            ErrorCode.NO_SUPPORT,
                            "URI '" + uri + "': only siphon:///session is served (per-user daemon)");
                }
                SessionDaemon daemon = SessionDaemon.forCurrentUser();
                daemon.ensureRunning();
                yield openUnix(daemon.socket(), readOnly, timeout);
            }
            default -> openTls(uri, readOnly, timeout);
        };
    }

    /** {@code siphon+tls://HOST:PORT/?cert=FILE&key=FILE&ca=FILE}: mutual TLS, the host name checked. */
    private static DriverSession openTls(URI uri, boolean readOnly, Duration timeout) {
        if (uri.getHost() == null || uri.getPort() < 0) {
            throw new SiphonException(ErrorCode.INVALID_ARG, "URI '" + uri + "' needs HOST:PORT");
        }
        Map<String, String> query = ConnectionUris.parameters(uri);
        for (String needed : List.of("cert", "key", "ca")) {
            if (!query.containsKey(needed)) {
                throw new SiphonException(
                        ErrorCode.INVALID_ARG,
                        "URI '" + uri + "' needs ?cert=FILE&key=FILE&ca=FILE (missing " + needed + ")");
            }
        }
        try {
            SSLContext context =
                    PemTls.mutual(Path.of(query.get("cert")), Path.of(query.get("key")), Path.of(query.get("ca")));
            SSLSocket socket = TlsPolicy.clientSocket(
                    context, Connect.tcp(uri.getHost(), uri.getPort()), uri.getHost(), uri.getPort());
            return new RemoteSession(
                    uri.getHost() + ":" + uri.getPort(),
                    socket,
                    socket.getInputStream(),
                    socket.getOutputStream(),
                    readOnly,
                    timeout);
        } catch (IOException e) {
            throw new SiphonException(
                    ErrorCode.CONNECTION_FAILED,
                    "TLS connection to " + uri.getHost() + ":" + uri.getPort() + ": " + e,
                    e);
        }
    }

    /** A session over the daemon's Unix socket at {@code socket}. */
    static DriverSession openUnix(Path socket, boolean readOnly, Duration timeout) {
        SocketChannel channel;
        try {
            channel = Connect.unix(socket);
        } catch (IOException e) {
            throw new SiphonException(ErrorCode.CONNECTION_FAILED, "the daemon is not reachable: " + e.getMessage(), e);
        }
        return new RemoteSession(
                socket.toString(),
                channel,
                Channels.newInputStream(channel),
                Channels.newOutputStream(channel),
                readOnly,
                timeout);
    }
}
