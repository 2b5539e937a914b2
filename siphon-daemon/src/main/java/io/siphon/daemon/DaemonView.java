package io.siphon.daemon;

import io.siphon.api.spi.DriverSession;
import io.siphon.blockjob.Disk;
import io.siphon.nbd.server.NbdServerListener;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the web console and the metrics see of a daemon: sessions of its driver (the API, as the
 * control protocol's clients have it), and on the embedded engine the engine's disk behind a
 * running disk (chain, counters, job progress) and a hook on its NBD server; the control servers'
 * counts. A daemon hosting another driver (qemu) has no engine disks: those figures are absent.
 * Thread-safe.
 */
public final class DaemonView {
    private static final Logger LOG = LoggerFactory.getLogger(DaemonView.class);

    private final SessionFactory sessions;
    private final Optional<DomainManager> engine;
    private final ControlCounters control;

    DaemonView(SessionFactory sessions, Optional<DomainManager> engine, ControlCounters control) {
        this.sessions = sessions;
        this.engine = engine;
        this.control = control;
    }

    /** A new session; a read-only one refuses every call that changes something. Close it when done. */
    public DriverSession session(boolean readOnly) {
        return sessions.open(readOnly, () -> LOG.warn("the web console does not keep up with events"));
    }

    /** The engine's disk of {@code domain}'s disk {@code target}, while the domain runs on the embedded engine. */
    public Optional<Disk> runningDisk(String domain, String target) {
        return engine.flatMap(manager -> manager.runningDisk(domain, target));
    }

    /** The control servers' request and error counts. */
    public ControlCounters control() {
        return control;
    }

    /** Tells {@code listener} of the embedded engine's NBD connections and requests from now on. */
    public void setNbdListener(NbdServerListener listener) {
        engine.ifPresent(manager -> manager.setNbdListener(listener));
    }
}
