package io.siphon.api;

import io.siphon.api.spi.DriverSession;
import java.net.URI;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An open connection to a driver: defines and looks up domains and delivers events. Thread-safe;
 * listeners are called on the driver's delivery thread, one event at a time, and must not block.
 */
public final class Connection implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Connection.class);

    private final URI uri;
    private final DriverSession session;
    private final List<BlockJobListener> blockJobListeners = new CopyOnWriteArrayList<>();
    private final List<LifecycleListener> lifecycleListeners = new CopyOnWriteArrayList<>();

    Connection(URI uri, DriverSession session) {
        this.uri = uri;
        this.session = session;
        session.setEventSink(this::deliver);
    }

    /** The URI this connection was opened with. */
    public URI uri() {
        return uri;
    }

    /** Whether this connection may only query. */
    public boolean isReadOnly() {
        return session.isReadOnly();
    }

    /** Defines (or, for an existing name and UUID, redefines) a domain from libvirt domain XML. */
    public Domain define(String domainXml) {
        Objects.requireNonNull(domainXml, "domainXml");
        return new Domain(session, session.define(domainXml).name());
    }

    /** Removes a shut-off domain's definition; its image files stay. */
    public void undefine(String domain) {
        session.undefine(domain);
    }

    /** The domain named {@code nameOrUuid}, or {@link ErrorCode#NO_DOMAIN}. */
    public Domain lookup(String nameOrUuid) {
        return new Domain(session, session.info(nameOrUuid).name());
    }

    /** Every defined domain, by name. */
    public List<DomainInfo> list() {
        return session.list();
    }

    /** The driver and the hypervisor this connection reaches, with their versions. */
    public VersionInfo version() {
        return session.version();
    }

    /** Registers {@code listener} for block job events of every domain; close the handle to remove it. */
    public ListenerHandle addBlockJobListener(BlockJobListener listener) {
        Objects.requireNonNull(listener, "listener");
        blockJobListeners.add(listener);
        return () -> blockJobListeners.remove(listener);
    }

    /** Registers {@code listener} for lifecycle events of every domain; close the handle to remove it. */
    public ListenerHandle addLifecycleListener(LifecycleListener listener) {
        Objects.requireNonNull(listener, "listener");
        lifecycleListeners.add(listener);
        return () -> lifecycleListeners.remove(listener);
    }

    private void deliver(SiphonEvent event) {
        switch (event) {
            case BlockJobEvent e -> blockJobListeners.forEach(l -> call(() -> l.onBlockJob(e)));
            case LifecycleEvent e -> lifecycleListeners.forEach(l -> call(() -> l.onLifecycle(e)));
        }
    }

    private static void call(Runnable listenerCall) {
        try {
            listenerCall.run();
        } catch (RuntimeException e) {
            // one faulty listener must not stop delivery to the others
            LOG.warn("event listener failed", e);
        }
    }

    /** Closes the connection; running domains and jobs go on. Idempotent. */
    @Override
    public void close() {
        session.close();
    }
}
