package io.siphon.daemon;

import io.siphon.api.ErrorCode;
import io.siphon.api.SiphonException;
import io.siphon.domain.DiskDefinition;
import io.siphon.domain.DomainDefinition;
import io.siphon.format.ImageFormatException;
import io.siphon.util.FirstFailure;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The runtime of the started domains: each one's open disks (chains locked, see {@link
 * RunningDisk}) and their NBD exports. Not thread-safe: the domain manager serializes calls.
 */
final class StartedDomains implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(StartedDomains.class);

    private final Map<String, List<RunningDisk>> running = new HashMap<>();
    private final DiskExports exports;

    StartedDomains(Path runDirectory) {
        this.exports = new DiskExports(runDirectory);
    }

    boolean isRunning(String domain) {
        return running.containsKey(domain);
    }

    Set<String> names() {
        return Set.copyOf(running.keySet());
    }

    /** The open disks of {@code domain}, if it is running. */
    Optional<List<RunningDisk>> disks(String domain) {
        return Optional.ofNullable(running.get(domain));
    }

    /**
     * Opens every disk's chain and exports it over NBD; on any failure what was opened is closed
     * again and the domain stays shut off. A source another running domain uses is refused.
     */
    List<RunningDisk> start(DomainDefinition definition) {
        for (DiskDefinition disk : definition.disks()) {
            for (Map.Entry<String, List<RunningDisk>> other : running.entrySet()) {
                for (RunningDisk used : other.getValue()) {
                    if (used.definition().source().equals(disk.source())) {
                        throw new SiphonException(
                                ErrorCode.OPERATION_INVALID,
                                "disk " + disk.target() + ": " + disk.source() + " is in use by running domain '"
                                        + other.getKey() + "'");
                    }
                }
            }
        }
        List<RunningDisk> opened = new ArrayList<>();
        try {
            for (DiskDefinition disk : definition.disks()) {
                opened.add(RunningDisk.open(definition.name(), disk));
            }
            for (RunningDisk disk : opened) {
                exports.export(disk);
            }
        } catch (IOException | RuntimeException e) {
            for (RunningDisk disk : opened) {
                exports.withdraw(disk);
                try {
                    disk.close(false);
                } catch (IOException closeFailure) {
                    e.addSuppressed(closeFailure);
                }
            }
            String what = e instanceof ImageFormatException ? e.getMessage() : e.toString();
            throw new SiphonException(
                    ErrorCode.OPERATION_FAILED, "cannot start domain '" + definition.name() + "': " + what, e);
        }
        List<RunningDisk> disks = List.copyOf(opened);
        running.put(definition.name(), disks);
        return disks;
    }

    /**
     * Withdraws and closes (flushing when {@code flush}) the disks of {@code domain}, which must
     * still be the {@code disks} its caller saw; the first failure is thrown once all are closed.
     */
    void stop(String domain, List<RunningDisk> disks, boolean flush) throws IOException {
        if (running.get(domain) != disks) {
            throw new SiphonException(ErrorCode.OPERATION_INVALID, "domain '" + domain + "' was stopped meanwhile");
        }
        running.remove(domain);
        FirstFailure failures = new FirstFailure();
        for (RunningDisk disk : disks) {
            exports.withdraw(disk);
            failures.run(() -> disk.close(flush));
        }
        failures.throwIfAny();
    }

    /** The running disk of {@code definition} named by target or source {@code diskName}. */
    RunningDisk disk(DomainDefinition definition, String diskName) {
        DiskDefinition disk = definition.disk(diskName).orElseThrow(() -> noDisk(definition, diskName));
        List<RunningDisk> disks = running.get(definition.name());
        if (disks == null) {
            throw new SiphonException(ErrorCode.OPERATION_INVALID, "domain '" + definition.name() + "' is not running");
        }
        for (RunningDisk candidate : disks) {
            if (candidate.target().equals(disk.target())) {
                return candidate;
            }
        }
        throw noDisk(definition, diskName);
    }

    /** The NBD server's socket, where each disk is an export. */
    Path nbdSocket() {
        return exports.socket();
    }

    /** The NBD URI of a running disk's export, if it has one. */
    Optional<String> nbdUri(String domain, String target) {
        try {
            return exports.uri(domain, target);
        } catch (IOException e) {
            LOG.warn("domain {} disk {}: no NBD URI: {}", domain, target, e.toString());
            return Optional.empty();
        }
    }

    /** Who is told of NBD connections and requests on the exports, from now on. */
    void setNbdListener(io.siphon.nbd.server.NbdServerListener listener) {
        exports.setListener(listener);
    }

    static SiphonException noDisk(DomainDefinition definition, String diskName) {
        return new SiphonException(
                ErrorCode.NO_DISK,
                "domain '" + definition.name() + "' has no disk with target or source '" + diskName + "'");
    }

    /** Stops the NBD server; the domains must have been stopped. */
    @Override
    public void close() throws IOException {
        exports.close();
    }
}
