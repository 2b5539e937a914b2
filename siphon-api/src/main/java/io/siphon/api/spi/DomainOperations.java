package io.siphon.api.spi;

import io.siphon.api.BlockInfo;
import io.siphon.api.BlockJobInfo;
import io.siphon.api.BlockJobProgress;
import io.siphon.api.BlockStats;
import io.siphon.api.DiskInfo;
import io.siphon.api.DomainInfo;
import io.siphon.api.PullStrategy;
import io.siphon.api.VersionInfo;
import java.util.List;
import java.util.Optional;

/**
 * The API's calls on domains, with domains named by name or UUID, disks by target or source path,
 * and bandwidth already in bytes per second; what a {@link DriverSession} offers a connection and a
 * {@link DomainEngine} offers its sessions. Implementations are thread-safe and report every
 * failure as a {@link io.siphon.api.SiphonException}. The control protocol's commands are these
 * calls, one to one.
 */
public interface DomainOperations {
    DomainInfo define(String domainXml);

    void undefine(String domain);

    List<DomainInfo> list();

    DomainInfo info(String domain);

    void start(String domain);

    void shutdown(String domain);

    void destroy(String domain);

    List<DiskInfo> disks(String domain);

    /** The domain's XML as it was defined, with what the driver does not use kept. */
    String xmlDesc(String domain);

    /** Marks the domain to start (or not) when its daemon starts; kept across restarts. */
    void setAutostart(String domain, boolean autostart);

    /** The sizes of {@code disk}, whether the domain runs or not. */
    BlockInfo blockInfo(String domain, String disk);

    /** The guest's I/O on {@code disk} since the domain started, or on all its disks when empty. */
    BlockStats blockStats(String domain, Optional<String> disk);

    /**
     * Starts a pull of {@code disk} down to {@code base} (or the whole chain when empty); {@code
     * strategy} gives its pace, its order and what it does while a remote template is unreachable.
     */
    void blockPull(
            String domain,
            String disk,
            Optional<String> base,
            long bytesPerSecond,
            boolean keepRelative,
            PullStrategy strategy);

    /** Copies one increment, starting a stepped pull of the whole chain when the disk has no job. */
    BlockJobProgress blockPullStep(String domain, String disk);

    Optional<BlockJobInfo> blockJobInfo(String domain, String disk);

    /** Cancels the disk's job; unless {@code async}, returns once it has ended. */
    void blockJobAbort(String domain, String disk, boolean async);

    void blockJobSetSpeed(String domain, String disk, long bytesPerSecond);

    void blockJobPause(String domain, String disk);

    void blockJobResume(String domain, String disk);

    /** The driver and the hypervisor behind it, with their versions. */
    VersionInfo version();
}
