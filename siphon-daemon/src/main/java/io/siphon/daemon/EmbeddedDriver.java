package io.siphon.daemon;

import io.siphon.api.ErrorCode;
import io.siphon.api.SiphonException;
import io.siphon.api.remote.ConnectionUris;
import io.siphon.api.spi.Driver;
import io.siphon.api.spi.DriverSession;
import java.net.URI;
import java.nio.file.Path;
import java.util.Set;

/**
 * The {@code embedded:///STATEDIR} driver: Siphon's engine in this process, managing the domains
 * of STATEDIR (one manager per directory, shared by all connections to it). Thread-safe.
 */
public final class EmbeddedDriver implements Driver {
    @Override
    public Set<String> schemes() {
        return Set.of("embedded");
    }

    @Override
    public DriverSession open(URI uri) {
        String path = uri.getPath();
        if (path == null || path.isEmpty() || path.equals("/")) {
            throw new SiphonException(
                    ErrorCode.INVALID_ARG, "URI '" + uri + "' names no state directory (embedded:///PATH/TO/STATEDIR)");
        }
        DomainManager manager = SharedManagers.acquire(Path.of(path));
        return EmbeddedEngine.session(manager, ConnectionUris.readOnly(uri), () -> SharedManagers.release(manager));
    }
}
