package io.siphon.daemon;

import io.siphon.api.BlockInfo;
import io.siphon.api.BlockJobInfo;
import io.siphon.api.BlockJobProgress;
import io.siphon.api.BlockStats;
import io.siphon.api.DiskInfo;
import io.siphon.api.DomainInfo;
import io.siphon.api.PullStrategy;
import io.siphon.api.SiphonEvent;
import io.siphon.api.SiphonVersion;
import io.siphon.api.VersionInfo;
import io.siphon.api.spi.DomainEngine;
import io.siphon.api.spi.EngineSession;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * A {@link DomainManager} as the SPI's {@link DomainEngine}, so that the embedded driver's
 * connections and the daemon's clients are {@link EngineSession}s like every in-process driver's.
 * Thread-safe, as the manager is.
 */
record EmbeddedEngine(DomainManager manager) implements DomainEngine {
    /** A session on {@code manager}; see {@link EngineSession}. */
    static EngineSession session(DomainManager manager, boolean readOnly, Runnable onClose) {
        return new EngineSession(new EmbeddedEngine(manager), readOnly, onClose);
    }

    /** Siphon's own engine: the hypervisor is this process. */
    @Override
    public VersionInfo version() {
        return new VersionInfo("embedded", SiphonVersion.current(), "Siphon", SiphonVersion.current());
    }

    @Override
    public AutoCloseable subscribe(Consumer<SiphonEvent> subscriber) {
        return manager.subscribe(subscriber);
    }

    @Override
    public DomainInfo define(String domainXml) {
        return manager.define(domainXml);
    }

    @Override
    public void undefine(String domain) {
        manager.undefine(domain);
    }

    @Override
    public List<DomainInfo> list() {
        return manager.list();
    }

    @Override
    public DomainInfo info(String domain) {
        return manager.info(domain);
    }

    @Override
    public void start(String domain) {
        manager.start(domain);
    }

    @Override
    public void shutdown(String domain) {
        manager.shutdown(domain);
    }

    @Override
    public void destroy(String domain) {
        manager.destroy(domain);
    }

    @Override
    public List<DiskInfo> disks(String domain) {
        return manager.disks(domain);
    }

    @Override
    public String xmlDesc(String domain) {
        return manager.xmlDesc(domain);
    }

    @Override
    public void setAutostart(String domain, boolean autostart) {
        manager.setAutostart(domain, autostart);
    }

    @Override
    public BlockInfo blockInfo(String domain, String disk) {
        return manager.blockInfo(domain, disk);
    }

    @Override
    public BlockStats blockStats(String domain, Optional<String> disk) {
        return manager.blockStats(domain, disk);
    }

    @Override
    public void blockPull(
            String domain,
            String disk,
            Optional<String> base,
            long bytesPerSecond,
            boolean keepRelative,
            PullStrategy strategy) {
        manager.blockPull(domain, disk, base, bytesPerSecond, keepRelative, strategy);
    }

    @Override
    public BlockJobProgress blockPullStep(String domain, String disk) {
        return manager.blockPullStep(domain, disk);
    }

    @Override
    public Optional<BlockJobInfo> blockJobInfo(String domain, String disk) {
        return manager.blockJobInfo(domain, disk);
    }

    @Override
    public void blockJobAbort(String domain, String disk, boolean async) {
        manager.blockJobAbort(domain, disk, async);
    }

    @Override
    public void blockJobSetSpeed(String domain, String disk, long bytesPerSecond) {
        manager.blockJobSetSpeed(domain, disk, bytesPerSecond);
    }

    @Override
    public void blockJobPause(String domain, String disk) {
        manager.blockJobPause(domain, disk);
    }

    @Override
    public void blockJobResume(String domain, String disk) {
        manager.blockJobResume(domain, disk);
    }
}
