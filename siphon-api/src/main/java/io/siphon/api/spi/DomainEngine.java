package io.siphon.api.spi;

import io.siphon.api.BlockJobInfo;
import io.siphon.api.BlockJobProgress;
import io.siphon.api.DiskInfo;
import io.siphon.api.DomainInfo;
import io.siphon.api.SiphonEvent;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * What runs a state directory's domains in this process (the hypervisor role), shared by every
 * {@link EngineSession} on it: the {@link DriverSession} calls without the per-connection parts
 * (read-only gate, event delivery, close). Implementations are thread-safe.
 */
public interface DomainEngine {
    /** Subscribes to every event, delivered on the emitting thread; closing the result unsubscribes. */
    AutoCloseable subscribe(Consumer<SiphonEvent> subscriber);

    DomainInfo define(String domainXml);

    void undefine(String domain);

    List<DomainInfo> list();

    DomainInfo info(String domain);

    void start(String domain);

    void shutdown(String domain);

    void destroy(String domain);

    List<DiskInfo> disks(String domain);

    void blockPull(String domain, String disk, Optional<String> base, long bytesPerSecond, boolean keepRelative);

    BlockJobProgress blockPullStep(String domain, String disk);

    Optional<BlockJobInfo> blockJobInfo(String domain, String disk);

    void blockJobAbort(String domain, String disk, boolean async);

    void blockJobSetSpeed(String domain, String disk, long bytesPerSecond);

    void blockJobPause(String domain, String disk);

    void blockJobResume(String domain, String disk);
}
