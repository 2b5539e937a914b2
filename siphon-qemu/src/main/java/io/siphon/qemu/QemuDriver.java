package io.siphon.qemu;

import io.siphon.api.ErrorCode;
import io.siphon.api.SiphonException;
import io.siphon.api.remote.ConnectionUris;
import io.siphon.api.spi.Driver;
import io.siphon.api.spi.DriverSession;
import io.siphon.api.spi.EngineSession;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code qemu:///STATEDIR} driver: domains of STATEDIR run as QEMU processes driven over QMP.
 * One {@link QemuDomains} per directory in this process, shared by its connections and let go (QEMU
 * processes keep running) when the last one closes. Thread-safe.
 */
public final class QemuDriver implements Driver {
    private static final Logger LOG = LoggerFactory.getLogger(QemuDriver.class);
    private static final Map<Path, Shared> OPEN = new HashMap<>();

    private static final class Shared {
        final QemuDomains domains;
        int users;

        Shared(QemuDomains domains) {
            this.domains = domains;
        }
    }

    @Override
    public Set<String> schemes() {
        return Set.of("qemu");
    }

    @Override
    public DriverSession open(URI uri) {
        String path = uri.getPath();
        if (path == null || path.isEmpty() || path.equals("/")) {
            throw new SiphonException(
                    ErrorCode.INVALID_ARG, "URI '" + uri + "' names no state directory (qemu:///PATH/TO/STATEDIR)");
        }
        QemuDomains domains = acquire(Path.of(path));
        EngineSession session = new EngineSession(domains, ConnectionUris.readOnly(uri), () -> release(domains));
        try {
            domains.reconcile();
        } catch (SiphonException e) {
            session.close();
            throw e;
        }
        return session;
    }

    private static synchronized QemuDomains acquire(Path stateDir) {
        Path key = stateDir.toAbsolutePath().normalize();
        Shared shared =
                OPEN.computeIfAbsent(key, k -> new Shared(QemuDomains.open(k, QemuBinaries.fromSystemProperties())));
        shared.users++;
        return shared.domains;
    }

    private static synchronized void release(QemuDomains domains) {
        Path key = domains.stateDirectory();
        Shared shared = OPEN.get(key);
        if (shared == null || shared.domains != domains || --shared.users > 0) {
            return;
        }
        OPEN.remove(key);
        try {
            domains.close();
        } catch (IOException e) {
            LOG.warn("closing state directory {}: {}", key, e.toString());
        }
    }
}
