package io.siphon.protocol;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import io.siphon.api.BlockJobInfo;
import io.siphon.api.BlockJobProgress;
import io.siphon.api.BlockJobState;
import io.siphon.api.BlockJobType;
import io.siphon.api.DiskInfo;
import io.siphon.api.DomainInfo;
import io.siphon.api.DomainState;
import io.siphon.api.PullPhase;
import io.siphon.api.VersionInfo;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * What a command's reply carries in {@code "return"}, one record per shape: member names in
 * kebab-case, enums in lower case, sizes in bytes, rates in bytes per second; a null member is left
 * out. Each converts from and to the API's value.
 */
public sealed interface Result {
    /** {@code {}}: the command returns nothing. */
    record None() implements Result {
        public static final None INSTANCE = new None();
    }

    /** The driver and hypervisor a daemon runs, with their versions. */
    record Version(String driver, String driverVersion, String hypervisor, String hypervisorVersion) implements Result {
        public static Version of(VersionInfo info) {
            return new Version(info.driver(), info.driverVersion(), info.hypervisor(), info.hypervisorVersion());
        }

        public VersionInfo toApi() {
            return new VersionInfo(driver, driverVersion, hypervisor, hypervisorVersion);
        }
    }

    /** Domain info; {@code autostart} is false from a daemon that predates it. */
    record Domain(String name, UUID uuid, DomainState state, int disks, boolean autostart) implements Result {
        public static Domain of(DomainInfo info) {
            return new Domain(info.name(), info.uuid(), info.state(), info.diskCount(), info.autostart());
        }

        public DomainInfo toApi() {
            return new DomainInfo(name, uuid, state, disks, autostart);
        }
    }

    /** A domain's XML as defined. */
    record Xml(String xml) implements Result {}

    /** A disk's sizes in bytes. */
    record BlockInfo(long capacity, long allocation, long physical) implements Result {
        public static BlockInfo of(io.siphon.api.BlockInfo info) {
            return new BlockInfo(info.capacityBytes(), info.allocationBytes(), info.physicalBytes());
        }

        public io.siphon.api.BlockInfo toApi() {
            return new io.siphon.api.BlockInfo(capacity, allocation, physical);
        }
    }

    /** A disk's I/O counters, named as libvirt's typed block stats; times in nanoseconds. */
    record BlockStats(
            long rdOperations,
            long rdBytes,
            long wrOperations,
            long wrBytes,
            long flushOperations,
            long rdTotalTimes,
            long wrTotalTimes,
            long flushTotalTimes)
            implements Result {
        public static BlockStats of(io.siphon.api.BlockStats s) {
            return new BlockStats(
                    s.readRequests(),
                    s.readBytes(),
                    s.writeRequests(),
                    s.writeBytes(),
                    s.flushRequests(),
                    s.readTotalNanos(),
                    s.writeTotalNanos(),
                    s.flushTotalNanos());
        }

        public io.siphon.api.BlockStats toApi() {
            return new io.siphon.api.BlockStats(
                    rdOperations,
                    rdBytes,
                    wrOperations,
                    wrBytes,
                    flushOperations,
                    rdTotalTimes,
                    wrTotalTimes,
                    flushTotalTimes);
        }
    }

    /** An array of domain info. */
    record Domains(@JsonValue List<Domain> domains) implements Result {
        @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
        public Domains {
            domains = List.copyOf(domains);
        }

        public static Domains of(List<DomainInfo> infos) {
            return new Domains(infos.stream().map(Domain::of).toList());
        }

        public List<DomainInfo> toApi() {
            return domains.stream().map(Domain::toApi).toList();
        }
    }

    /** Disk info; {@code nbdUri} is null while the domain is not running. */
    record Disk(String target, String source, String format, boolean readOnly, boolean copyOnRead, String nbdUri) {
        public static Disk of(DiskInfo disk) {
            return new Disk(
                    disk.target(),
                    disk.source(),
                    disk.format(),
                    disk.readOnly(),
                    disk.copyOnRead(),
                    disk.nbdUri().orElse(null));
        }

        public DiskInfo toApi() {
            return new DiskInfo(target, source, format, readOnly, copyOnRead, Optional.ofNullable(nbdUri));
        }
    }

    /** An array of disk info. */
    record Disks(@JsonValue List<Disk> disks) implements Result {
        @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
        public Disks {
            disks = List.copyOf(disks);
        }

        public static Disks of(List<DiskInfo> disks) {
            return new Disks(disks.stream().map(Disk::of).toList());
        }

        public List<DiskInfo> toApi() {
            return disks.stream().map(Disk::toApi).toList();
        }
    }

    /** A stepped pull's progress. */
    record Progress(long cur, long end, boolean completed) implements Result {
        public static Progress of(BlockJobProgress progress) {
            return new Progress(progress.curBytes(), progress.endBytes(), progress.completed());
        }

        public BlockJobProgress toApi() {
            return new BlockJobProgress(cur, end, completed);
        }
    }

    /** Job info; {@code etaMs} is null while unknown. */
    record Job(
            BlockJobType type,
            long bandwidthBytes,
            long cur,
            long end,
            BlockJobState state,
            long rateBytes,
            Long etaMs,
            PullPhase phase,
            String pauseReason) {
        public static Job of(BlockJobInfo info) {
            return new Job(
                    info.type(),
                    info.bandwidthBytesPerSecond(),
                    info.curBytes(),
                    info.endBytes(),
                    info.state(),
                    info.rateBytesPerSecond(),
                    info.eta().map(Duration::toMillis).orElse(null),
                    info.phase().orElse(null),
                    info.pauseReason().orElse(null));
        }

        public BlockJobInfo toApi() {
            return new BlockJobInfo(
                    type,
                    bandwidthBytes,
                    cur,
                    end,
                    state,
                    rateBytes,
                    Optional.ofNullable(etaMs).map(Duration::ofMillis),
                    Optional.ofNullable(phase),
                    Optional.ofNullable(pauseReason));
        }
    }

    /** {@code {"job": job info}}, or {@code {}} when the disk has no job ({@code job} null). */
    record JobStatus(Job job) implements Result {
        public static JobStatus of(Optional<BlockJobInfo> info) {
            return new JobStatus(info.map(Job::of).orElse(null));
        }

        public Optional<BlockJobInfo> toApi() {
            return Optional.ofNullable(job).map(Job::toApi);
        }
    }
}
