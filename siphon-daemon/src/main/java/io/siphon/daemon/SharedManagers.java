package io.siphon.daemon;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One {@link DomainManager} per state directory in this process, shared by every embedded
 * connection and the control server, closed when the last user releases it. Thread-safe.
 */
final class SharedManagers {
    private static final Logger LOG = LoggerFactory.getLogger(SharedManagers.class);
    private static final Map<Path, Entry> OPEN = new HashMap<>();

    private SharedManagers() {}

    private static final class Entry {
        final DomainManager manager;
        int users;

        Entry(DomainManager manager) {
            this.manager = manager;
        }
    }

    /** The manager of {@code stateDir}, opened if needed (remote backings refused); pair with {@link #release}. */
    static DomainManager acquire(Path stateDir) {
        return acquire(stateDir, EngineSettings.DEFAULT);
    }

    /**
     * The manager of {@code stateDir}, opened if needed with {@code settings} (a manager already open
     * keeps the settings it was opened with); pair with {@link #release}.
     */
    static synchronized DomainManager acquire(Path stateDir, EngineSettings settings) {
        Path key = stateDir.toAbsolutePath().normalize();
        Entry entry = OPEN.get(key);
        if (entry == null) {
            entry = new Entry(DomainManager.open(key, settings));
            OPEN.put(key, entry);
        }
        entry.users++;
        return entry.manager;
    }

    static synchronized void release(DomainManager manager) {
        Path key = manager.stateDirectory();
        Entry entry = OPEN.get(key);
        if (entry == null || entry.manager != manager) {
            return;
        }
        if (--entry.users == 0) {
            OPEN.remove(key);
            try {
                manager.close();
            } catch (IOException e) {
                LOG.warn("closing state directory {}: {}", key, e.toString());
            }
        }
    }
}
