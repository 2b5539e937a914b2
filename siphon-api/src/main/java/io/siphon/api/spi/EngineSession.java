package io.siphon.api.spi;

import io.siphon.api.BlockInfo;
import io.siphon.api.BlockJobInfo;
import io.siphon.api.BlockJobProgress;
import io.siphon.api.BlockStats;
import io.siphon.api.DiskInfo;
import io.siphon.api.DomainInfo;
import io.siphon.api.ErrorCode;
import io.siphon.api.PullStrategy;
import io.siphon.api.SiphonEvent;
import io.siphon.api.SiphonException;
import io.siphon.api.VersionInfo;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One connection to a {@link DomainEngine} in this process: refuses changes when read-only, and
 * delivers the engine's events to the sink in order on its own thread (once the sink is set), so a
 * slow consumer never holds up the engine; one that falls {@code maxPendingEvents} behind is cut off.
 * Thread-safe.
 */
public final class EngineSession implements DriverSession {
    private static final Logger LOG = LoggerFactory.getLogger(EngineSession.class);

    /** Events waiting for a consumer that does not keep up, beyond which it is cut off. */
    public static final int MAX_PENDING_EVENTS = 10_000;

    private final DomainEngine engine;
    private final boolean readOnly;
    private final Runnable onClose;
    private final Runnable onOverflow;
    private final int maxPendingEvents;
    private final AtomicBoolean overflowed = new AtomicBoolean();
    private final AtomicInteger pendingEvents = new AtomicInteger();
    private final CountDownLatch sinkSet = new CountDownLatch(1);
    private final ExecutorService delivery = Executors.newSingleThreadExecutor(
            Thread.ofVirtual().name("siphon-session-events").factory());
    private final AutoCloseable subscription;
    private volatile Consumer<SiphonEvent> sink = event -> {};
    private volatile boolean closed;

    /**
     * A session on {@code engine}; {@code onClose} runs once when it closes, {@code onOverflow} once
     * when {@code maxPendingEvents} wait for a sink that does not keep up (further events are dropped).
     */
    public EngineSession(
            DomainEngine engine, boolean readOnly, Runnable onClose, Runnable onOverflow, int maxPendingEvents) {
        this.engine = engine;
        this.readOnly = readOnly;
        this.onClose = onClose;
        this.onOverflow = onOverflow;
        this.maxPendingEvents = maxPendingEvents;
        this.subscription = engine.subscribe(this::enqueue);
    }

    /** As the full constructor, logging an overflow, with {@link #MAX_PENDING_EVENTS}. */
    public EngineSession(DomainEngine engine, boolean readOnly, Runnable onClose) {
        this(
                engine,
                readOnly,
                onClose,
                () -> LOG.warn("an event listener does not keep up; events are dropped"),
                MAX_PENDING_EVENTS);
    }

    private void enqueue(SiphonEvent event) {
        if (closed) {
            return;
        }
        if (pendingEvents.incrementAndGet() > maxPendingEvents) {
            pendingEvents.decrementAndGet();
            if (overflowed.compareAndSet(false, true)) {
                onOverflow.run();
            }
            return;
        }
        try {
            delivery.execute(() -> {
                try {
                    // events emitted while the connection is being opened wait for its sink
                    sinkSet.await();
                } catch (InterruptedException e) {
                    return;
                }
                pendingEvents.decrementAndGet();
                sink.accept(event);
            });
        } catch (RejectedExecutionException e) {
            // closed between the check above and now (found by ControlFuzzTest): a closed
            // connection gets no more events, as if it had closed first
            pendingEvents.decrementAndGet();
            if (!closed) {
                throw e;
            }
        }
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
        sinkSet.countDown();
    }

    @Override
    public DomainInfo define(String domainXml) {
        writable("define");
        return engine.define(domainXml);
    }

    @Override
    public void undefine(String domain) {
        writable("undefine");
        engine.undefine(domain);
    }

    @Override
    public List<DomainInfo> list() {
        open();
        return engine.list();
    }

    @Override
    public DomainInfo info(String domain) {
        open();
        return engine.info(domain);
    }

    @Override
    public void start(String domain) {
        writable("start");
        engine.start(domain);
    }

    @Override
    public void shutdown(String domain) {
        writable("shutdown");
        engine.shutdown(domain);
    }

    @Override
    public void destroy(String domain) {
        writable("destroy");
        engine.destroy(domain);
    }

    @Override
    public List<DiskInfo> disks(String domain) {
        open();
        return engine.disks(domain);
    }

    @Override
    public String xmlDesc(String domain) {
        open();
        return engine.xmlDesc(domain);
    }

    @Override
    public void setAutostart(String domain, boolean autostart) {
        writable("setAutostart");
        engine.setAutostart(domain, autostart);
    }

    @Override
    public BlockInfo blockInfo(String domain, String disk) {
        open();
        return engine.blockInfo(domain, disk);
    }

    @Override
    public BlockStats blockStats(String domain, Optional<String> disk) {
        open();
        return engine.blockStats(domain, disk);
    }

    @Override
    public void blockPull(
            String domain,
            String disk,
            Optional<String> base,
            long bytesPerSecond,
            boolean keepRelative,
            PullStrategy strategy) {
        writable("blockPull");
        engine.blockPull(domain, disk, base, bytesPerSecond, keepRelative, strategy);
    }

    @Override
    public BlockJobProgress blockPullStep(String domain, String disk) {
        writable("blockPullStep");
        return engine.blockPullStep(domain, disk);
    }

    @Override
    public Optional<BlockJobInfo> blockJobInfo(String domain, String disk) {
        open();
        return engine.blockJobInfo(domain, disk);
    }

    @Override
    public void blockJobAbort(String domain, String disk, boolean async) {
        writable("blockJobAbort");
        engine.blockJobAbort(domain, disk, async);
    }

    @Override
    public void blockJobSetSpeed(String domain, String disk, long bytesPerSecond) {
        writable("blockJobSetSpeed");
        engine.blockJobSetSpeed(domain, disk, bytesPerSecond);
    }

    @Override
    public void blockJobPause(String domain, String disk) {
        writable("blockJobPause");
        engine.blockJobPause(domain, disk);
    }

    @Override
    public void blockJobResume(String domain, String disk) {
        writable("blockJobResume");
        engine.blockJobResume(domain, disk);
    }

    @Override
    public VersionInfo version() {
        return engine.version();
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
        sinkSet.countDown();
        delivery.shutdown();
        onClose.run();
    }
}
