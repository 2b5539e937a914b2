package io.siphon.qemu;

import io.siphon.api.BlockJobInfo;
import io.siphon.api.BlockJobProgress;
import io.siphon.api.DiskInfo;
import io.siphon.api.DomainInfo;
import io.siphon.api.ErrorCode;
import io.siphon.api.SiphonEvent;
import io.siphon.api.SiphonException;
import io.siphon.api.spi.DriverSession;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One connection of the qemu driver on a {@link QemuDomains}: refuses changes when read-only, and
 * delivers events in order on its own thread once the sink is set. Thread-safe.
 */
final class QemuSession implements DriverSession {
    private static final Logger LOG = LoggerFactory.getLogger(QemuSession.class);

    private final QemuDomains domains;
    private final boolean readOnly;
    private final Runnable onClose;
    private final AutoCloseable subscription;
    private final ExecutorService delivery = Executors.newSingleThreadExecutor(
            Thread.ofVirtual().name("siphon-qemu-events").factory());
    private final CountDownLatch sinkSet = new CountDownLatch(1);
    private volatile Consumer<SiphonEvent> sink = event -> {};
    private volatile boolean closed;

    QemuSession(QemuDomains domains, boolean readOnly, Runnable onClose) {
        this.domains = domains;
        this.readOnly = readOnly;
        this.onClose = onClose;
        this.subscription = domains.subscribe(this::enqueue);
    }

    private void enqueue(SiphonEvent event) {
        if (closed) {
            return;
        }
        delivery.execute(() -> {
            try {
                // events of the reconciliation at open wait for the connection's sink
                sinkSet.await();
            } catch (InterruptedException e) {
                return;
            }
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
        sinkSet.countDown();
    }

    @Override
    public DomainInfo define(String domainXml) {
        writable("define");
        return domains.define(domainXml);
    }

    @Override
    public void undefine(String domain) {
        writable("undefine");
        domains.undefine(domain);
    }

    @Override
    public List<DomainInfo> list() {
        open();
        return domains.list();
    }

    @Override
    public DomainInfo info(String domain) {
        open();
        return domains.info(domain);
    }

    @Override
    public void start(String domain) {
        writable("start");
        domains.start(domain);
    }

    @Override
    public void shutdown(String domain) {
        writable("shutdown");
        domains.shutdown(domain);
    }

    @Override
    public void destroy(String domain) {
        writable("destroy");
        domains.destroy(domain);
    }

    @Override
    public List<DiskInfo> disks(String domain) {
        open();
        return domains.disks(domain);
    }

    @Override
    public void blockPull(
            String domain, String disk, Optional<String> base, long bytesPerSecond, boolean keepRelative) {
        writable("blockPull");
        domains.blockPull(domain, disk, base, bytesPerSecond, keepRelative);
    }

    /** Always refused with {@link ErrorCode#NO_SUPPORT} once the call is otherwise valid. */
    @Override
    public BlockJobProgress blockPullStep(String domain, String disk) {
        writable("blockPullStep");
        domains.blockPullStep(domain, disk);
        throw new IllegalStateException("blockPullStep returned on the qemu driver");
    }

    @Override
    public Optional<BlockJobInfo> blockJobInfo(String domain, String disk) {
        open();
        return domains.blockJobInfo(domain, disk);
    }

    @Override
    public void blockJobAbort(String domain, String disk, boolean async) {
        writable("blockJobAbort");
        domains.blockJobAbort(domain, disk, async);
    }

    @Override
    public void blockJobSetSpeed(String domain, String disk, long bytesPerSecond) {
        writable("blockJobSetSpeed");
        domains.blockJobSetSpeed(domain, disk, bytesPerSecond);
    }

    @Override
    public void blockJobPause(String domain, String disk) {
        writable("blockJobPause");
        domains.blockJobPause(domain, disk);
    }

    @Override
    public void blockJobResume(String domain, String disk) {
        writable("blockJobResume");
        domains.blockJobResume(domain, disk);
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
