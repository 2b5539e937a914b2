package io.siphon.api;

import io.siphon.api.spi.DriverSession;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * A handle on a defined domain of one connection: lifecycle and the block-job family of libvirt.
 * Disks are named by target (vda) or by source path. Bandwidths are in MiB/s unless the call's
 * BANDWIDTH_BYTES flag says bytes/s; 0 means unlimited. Thread-safe; every call asks the driver.
 */
public final class Domain {
    private final DriverSession session;
    private final String name;

    Domain(DriverSession session, String name) {
        this.session = session;
        this.name = name;
    }

    /** The domain's name. */
    public String name() {
        return name;
    }

    /** The domain's current state. */
    public DomainInfo info() {
        return session.info(name);
    }

    /** The domain's disks, with their NBD URIs while it runs. */
    public List<DiskInfo> disks() {
        return session.disks(name);
    }

    /** The domain's XML as defined, with what Siphon does not use kept; {@code virDomainGetXMLDesc}. */
    public String xmlDesc() {
        return session.xmlDesc(name);
    }

    /** Whether the domain starts when its daemon starts; {@code virDomainGetAutostart}. */
    public boolean autostart() {
        return info().autostart();
    }

    /** Marks the domain to start, or not, when its daemon starts; {@code virDomainSetAutostart}. */
    public void setAutostart(boolean autostart) {
        session.setAutostart(name, autostart);
    }

    /** The disk's capacity, allocation and physical size; {@code virDomainGetBlockInfo}. */
    public BlockInfo blockInfo(String disk) {
        return session.blockInfo(name, disk(disk));
    }

    /** The guest's I/O on the disk since the domain started; {@code virDomainBlockStatsFlags}. */
    public BlockStats blockStats(String disk) {
        return session.blockStats(name, Optional.of(disk(disk)));
    }

    /** The guest's I/O on all the domain's disks since it started (libvirt's empty path). */
    public BlockStats blockStats() {
        return session.blockStats(name, Optional.empty());
    }

    /** Opens the chains, takes the image locks and exports every disk over NBD. */
    public void start() {
        session.start(name);
    }

    /** Cancels jobs that do not survive a restart, flushes and closes every disk. */
    public void shutdown() {
        session.shutdown(name);
    }

    /** Stops at once: cancels jobs and closes every disk without flushing. */
    public void destroy() {
        session.destroy(name);
    }

    /** Pulls the whole backing chain into {@code disk} in the background; {@code virDomainBlockPull}. */
    public void blockPull(String disk, long bandwidth, Set<PullFlag> flags) {
        long bytesPerSecond = Bandwidth.toBytesPerSecond(bandwidth, flags.contains(PullFlag.BANDWIDTH_BYTES));
        session.blockPull(
                name,
                disk(disk),
                Optional.empty(),
                bytesPerSecond,
                false,
                PullStrategy.of(
                        flags.contains(PullFlag.PACE_GUEST),
                        flags.contains(PullFlag.ORDER_PROFILE),
                        flags.contains(PullFlag.FAIL_ON_OUTAGE)));
    }

    /**
     * Pulls the images above {@code base} into {@code disk}, which then backs onto {@code base}
     * (named by path as in the chain), or onto nothing when {@code base} is empty; {@code
     * virDomainBlockRebase} without COPY.
     */
    public void blockRebase(String disk, Optional<String> base, long bandwidth, Set<RebaseFlag> flags) {
        rebase(disk, base, bandwidth, flags, strategy(flags));
    }

    private void rebase(
            String disk, Optional<String> base, long bandwidth, Set<RebaseFlag> flags, PullStrategy strategy) {
        Objects.requireNonNull(base, "base");
        long bytesPerSecond = Bandwidth.toBytesPerSecond(bandwidth, flags.contains(RebaseFlag.BANDWIDTH_BYTES));
        if (flags.contains(RebaseFlag.KEEP_RELATIVE) && base.isEmpty()) {
            throw new SiphonException(ErrorCode.INVALID_ARG, "KEEP_RELATIVE needs a base");
        }
        session.blockPull(name, disk(disk), base, bytesPerSecond, flags.contains(RebaseFlag.KEEP_RELATIVE), strategy);
    }

    private static PullStrategy strategy(Set<RebaseFlag> flags) {
        return PullStrategy.of(
                flags.contains(RebaseFlag.PACE_GUEST),
                flags.contains(RebaseFlag.ORDER_PROFILE),
                flags.contains(RebaseFlag.FAIL_ON_OUTAGE));
    }

    /**
     * As {@link #blockRebase(String, Optional, long, Set)} with {@link RebaseFlag#PACE_GUEST}, which
     * {@code flags} must hold: the pull backs off while the guest's p99 latency is over {@code
     * guestLatencyFactor} × its idle p99 (the default is {@value PullStrategy#DEFAULT_GUEST_LATENCY_FACTOR})
     * or the guest completes less than 90% of its idle requests per second. Siphon's.
     */
    public void blockRebase(
            String disk, Optional<String> base, long bandwidth, Set<RebaseFlag> flags, double guestLatencyFactor) {
        if (!flags.contains(RebaseFlag.PACE_GUEST)) {
            throw new SiphonException(ErrorCode.INVALID_ARG, "a guest latency factor needs PACE_GUEST");
        }
        rebase(disk, base, bandwidth, flags, strategy(flags).withGuestLatencyFactor(guestLatencyFactor));
    }

    /**
     * Copies one increment of a pull of the whole chain into {@code disk}, starting a stepped job
     * when the disk has none; the last step completes the job.
     */
    public BlockJobProgress blockPullStep(String disk) {
        return session.blockPullStep(name, disk(disk));
    }

    /** The disk's job, or empty when it has none; {@code virDomainGetBlockJobInfo}. */
    public Optional<BlockJobInfo> blockJobInfo(String disk) {
        return session.blockJobInfo(name, disk(disk));
    }

    /** Cancels the disk's job, waiting until it has ended unless {@link AbortFlag#ASYNC}. */
    public void blockJobAbort(String disk, Set<AbortFlag> flags) {
        session.blockJobAbort(name, disk(disk), flags.contains(AbortFlag.ASYNC));
    }

    /** Changes the job's speed limit; {@code virDomainBlockJobSetSpeed}. */
    public void blockJobSetSpeed(String disk, long bandwidth, Set<SpeedFlag> flags) {
        long bytesPerSecond = Bandwidth.toBytesPerSecond(bandwidth, flags.contains(SpeedFlag.BANDWIDTH_BYTES));
        session.blockJobSetSpeed(name, disk(disk), bytesPerSecond);
    }

    /** Pauses the disk's job. */
    public void blockJobPause(String disk) {
        session.blockJobPause(name, disk(disk));
    }

    /** Resumes the disk's paused job. */
    public void blockJobResume(String disk) {
        session.blockJobResume(name, disk(disk));
    }

    private static String disk(String disk) {
        if (disk == null || disk.isEmpty()) {
            throw new SiphonException(ErrorCode.INVALID_ARG, "disk must be named by target or source path");
        }
        return disk;
    }

    @Override
    public String toString() {
        return "Domain[" + name + "]";
    }
}
