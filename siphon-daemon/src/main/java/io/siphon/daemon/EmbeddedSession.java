package io.siphon.daemon;

import io.siphon.api.BlockJobInfo;
import io.siphon.api.BlockJobProgress;
import io.siphon.api.DiskInfo;
import io.siphon.api.DomainInfo;
import io.siphon.api.ErrorCode;
import io.siphon.api.PullOrder;
import io.siphon.api.PullPace;
import io.siphon.api.SiphonEvent;
import io.siphon.api.SiphonException;
import io.siphon.api.spi.DriverSession;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A session on a {@link DomainManager} in this process: the embedded driver's connections, and
 * each control-server client. Events reach the sink in order on the session's own delivery thread,
 * so a slow consumer never holds up the engine. Thread-safe.
 */
final class EmbeddedSession implements DriverSession {
    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedSession.class);

    /** Events waiting for a consumer that does not keep up, beyond which it is cut off. */
    static final int MAX_PENDING_EVENTS = 10_000;

    private final DomainManager manager;
    private final boolean readOnly;
    private final Runnable onClose;
    private final Runnable onOverflow;
    private final int maxPendingEvents;
    private final AtomicBoolean overflowed = new AtomicBoolean();
    private final AtomicInteger pendingEvents = new AtomicInteger();
    private final ExecutorService delivery = Executors.newSingleThreadExecutor(
            Thread.ofVirtual().name("siphon-embedded-events").factory());
    private final AutoCloseable subscription;
    private volatile Consumer<SiphonEvent> sink = event -> {};
    private volatile boolean closed;

    /**
     * A session whose events queue for its sink; when {@code maxPendingEvents} wait because the
     * sink does not keep up, further events are dropped and {@code onOverflow} runs (once per session).
     */
    EmbeddedSession(DomainManager manager, boolean readOnly, Runnable onClose, Runnable onOverflow) {
        this(manager, readOnly, onClose, onOverflow, MAX_PENDING_EVENTS);
    }

    EmbeddedSession(
            DomainManager manager, boolean readOnly, Runnable onClose, Runnable onOverflow, int maxPendingEvents) {
        this.maxPendingEvents = maxPendingEvents;
        this.manager = manager;
        this.readOnly = readOnly;
        this.onClose = onClose;
        this.onOverflow = onOverflow;
        this.subscription = manager.subscribe(this::enqueue);
    }

    EmbeddedSession(DomainManager manager, boolean readOnly, Runnable onClose) {
        this(manager, readOnly, onClose, () -> LOG.warn("an event listener does not keep up; events are dropped"));
    }

    private void enqueue(SiphonEvent event) {
        if (closed) {
            return;
        }
        int pending = pendingEvents.incrementAndGet();
        if (pending > maxPendingEvents) {
            pendingEvents.decrementAndGet();
            if (overflowed.compareAndSet(false, true)) {
                onOverflow.run();
            }
            return;
        }
        delivery.execute(() -> {
            pendingEvents.decrementAndGet();
            sink.accept(event);
        });
    }

    private void writable(String call) {
        if (readOnly) {
            throw new SiphonException(ErrorCode.READ_ONLY, "'" + call + "' is refused on a read-only connection");
        }
        open();
    }

    private void open() {
        if (closed) {
            throw new SiphonException(ErrorCode.CONNECTION_FAILED, "the connection is closed");
        }
    }

    @Override
    public boolean isReadOnly() {
        return readOnly;
    }

    @Override
    public void setEventSink(Consumer<SiphonEvent> sink) {
        this.sink = sink;
    }

    @Override
    public DomainInfo define(String domainXml) {
        writable("define");
        return manager.define(domainXml);
    }

    @Override
    public void undefine(String domain) {
        writable("undefine");
        manager.undefine(domain);
    }

    @Override
    public List<DomainInfo> list() {
        open();
        return manager.list();
    }

    @Override
    public DomainInfo info(String domain) {
        open();
        return manager.info(domain);
    }

    @Override
    public void start(String domain) {
        writable("start");
        manager.start(domain);
    }

    @Override
    public void shutdown(String domain) {
        writable("shutdown");
        manager.shutdown(domain);
    }

    @Override
    public void destroy(String domain) {
        writable("destroy");
        manager.destroy(domain);
    }

    @Override
    public List<DiskInfo> disks(String domain) {
        open();
        return manager.disks(domain);
    }

    @Override
    public void blockPull(
            String domain,
            String disk,
            Optional<String> base,
            long bytesPerSecond,
            boolean keepRelative,
            PullPace pace,
            PullOrder order) {
        writable("blockPull");
        manager.blockPull(domain, disk, base, bytesPerSecond, keepRelative, pace, order);
    }

    @Override
    public BlockJobProgress blockPullStep(String domain, String disk) {
        writable("blockPullStep");
        return manager.blockPullStep(domain, disk);
    }

    @Override
    public Optional<BlockJobInfo> blockJobInfo(String domain, String disk) {
        open();
        return manager.blockJobInfo(domain, disk);
    }

    @Override
    public void blockJobAbort(String domain, String disk, boolean async) {
        writable("blockJobAbort");
        manager.blockJobAbort(domain, disk, async);
    }

    @Override
    public void blockJobSetSpeed(String domain, String disk, long bytesPerSecond) {
        writable("blockJobSetSpeed");
        manager.blockJobSetSpeed(domain, disk, bytesPerSecond);
    }

    @Override
    public void blockJobPause(String domain, String disk) {
        writable("blockJobPause");
        manager.blockJobPause(domain, disk);
    }

    @Override
    public void blockJobResume(String domain, String disk) {
        writable("blockJobResume");
        manager.blockJobResume(domain, disk);
    }

    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        try {
            subscription.close();
        } catch (Exception e) {
            LOG.debug("unsubscribing", e);
        }
        delivery.shutdown();
        onClose.run();
    }
}
