package io.siphon.daemon;

import io.siphon.api.ErrorCode;
import io.siphon.api.SiphonException;
import io.siphon.domain.DiskDefinition;
import io.siphon.domain.DomainDefinition;
import io.siphon.domain.IoMessages;
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
 * RunningDisk}) and their NBD exports, and the domains being started. Not thread-safe: the domain
 * manager serializes calls, except {@link #openDisks}, which it calls outside its lock.
 */
final class StartedDomains implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(StartedDomains.class);

    private final Map<String, List<RunningDisk>> running = new HashMap<>();
    private final Map<String, DomainDefinition> starting = new HashMap<>();
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

    /** Whether {@code domain} is being started: its disks are being opened outside the manager's lock. */
    boolean isStarting(String domain) {
        return starting.containsKey(domain);
    }

    /**
     * Reserves {@code definition}'s name and disk sources for a start whose disks are then opened
     * outside the manager's lock ({@link #openDisks}); a source that a running domain, or one being
     * started, uses is refused.
     */
    void reserve(DomainDefinition definition) {
        for (DiskDefinition disk : definition.disks()) {
            Optional<String> user = userOf(disk.source());
            if (user.isPresent()) {
                throw new SiphonException(
                        ErrorCode.OPERATION_INVALID,
                        "disk " + disk.target() + ": " + disk.source() + " is in use by "
                                + (running.containsKey(user.get()) ? "running" : "starting") + " domain '"
                                + user.get() + "'");
            }
        }
        starting.put(definition.name(), definition);
    }

    private Optional<String> userOf(Path source) {
        for (Map.Entry<String, List<RunningDisk>> other : running.entrySet()) {
            for (RunningDisk used : other.getValue()) {
                if (used.definition().source().equals(source)) {
                    return Optional.of(other.getKey());
                }
            }
        }
        for (DomainDefinition other : starting.values()) {
            for (DiskDefinition used : other.disks()) {
                if (used.source().equals(source)) {
                    return Optional.of(other.name());
                }
            }
        }
        return Optional.empty();
    }

    /** Drops the reservation of a start that failed or was given up. */
    void release(String domain) {
        starting.remove(domain);
    }

    /**
     * Opens every disk's chain with {@code opener}; touches no shared state, so that a slow or
     * blocking open holds nobody else up. On any failure what was opened is closed again.
     */
    static List<RunningDisk> openDisks(DomainDefinition definition, DiskOpener opener) {
        List<RunningDisk> opened = new ArrayList<>();
        for (DiskDefinition disk : definition.disks()) {
            try {
                opened.add(opener.open(definition.name(), disk));
            } catch (IOException | RuntimeException e) {
                closeAll(opened, e);
                throw cannotStart(definition, "disk " + disk.target() + ": ", e);
            }
        }
        return List.copyOf(opened);
    }

    /** Closes disks opened for a start that will not happen, adding failures to {@code failure}. */
    static void closeAll(List<RunningDisk> opened, Exception failure) {
        for (RunningDisk disk : opened) {
            try {
                disk.close(false);
            } catch (IOException closeFailure) {
                failure.addSuppressed(closeFailure);
            }
        }
    }

    /**
     * Exports the reserved domain's opened disks over NBD and records it as running; on failure its
     * disks are closed and the domain stays shut off.
     */
    List<RunningDisk> commit(DomainDefinition definition, List<RunningDisk> opened) {
        starting.remove(definition.name());
        try {
            for (RunningDisk disk : opened) {
                exports.export(disk);
            }
        } catch (IOException | RuntimeException e) {
            for (RunningDisk disk : opened) {
                exports.withdraw(disk);
            }
            closeAll(opened, e);
            throw cannotStart(definition, "", e);
        }
        running.put(definition.name(), opened);
        return opened;
    }

    /**
     * Reserves, opens and commits {@code definition}'s disks in one call, under the caller's lock:
     * for a takeover while the manager opens, before anyone else can call it.
     */
    List<RunningDisk> startNow(DomainDefinition definition, DiskOpener opener) {
        reserve(definition);
        List<RunningDisk> opened;
        try {
            opened = openDisks(definition, opener);
        } catch (RuntimeException e) {
            release(definition.name());
            throw e;
        }
        return commit(definition, opened);
    }

    /** The failure of a start, its message naming the domain and {@code where} (a disk, or nothing). */
    private static SiphonException cannotStart(DomainDefinition definition, String where, Exception e) {
        if (e instanceof SiphonException siphon) {
            return siphon;
        }
        String what = IoMessages.describe(e);
        return new SiphonException(
                ErrorCode.OPERATION_FAILED, "cannot start domain '" + definition.name() + "': " + where + what, e);
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
