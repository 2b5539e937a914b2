package io.siphon.daemon;

import io.siphon.api.spi.DriverSession;
import io.siphon.blockjob.Disk;
import io.siphon.nbd.server.NbdServerListener;
import java.util.Optional;

/**
 * What the web console and the metrics see of a daemon: a session on its domain manager (the API,
 * as the control protocol's clients have it), the engine's disk behind a running disk (chain,
 * counters, job progress), the control servers' counts, and a hook on its NBD server. Thread-safe.
 */
public final class DaemonView {
    private final DomainManager manager;
    private final ControlCounters control;

    DaemonView(DomainManager manager, ControlCounters control) {
        this.manager = manager;
        this.control = control;
    }

    /** A new session; a read-only one refuses every call that changes something. Close it when done. */
    public DriverSession session(boolean readOnly) {
        return new EmbeddedSession(manager, readOnly, () -> {});
    }

    /** The engine's disk of {@code domain}'s disk {@code target}, while the domain runs. */
    public Optional<Disk> runningDisk(String domain, String target) {
        return manager.runningDisk(domain, target);
    }

    /** The control servers' request and error counts. */
    public ControlCounters control() {
        return control;
    }

    /** Tells {@code listener} of the NBD server's connections and requests from now on. */
    public void setNbdListener(NbdServerListener listener) {
        manager.setNbdListener(listener);
    }
}
