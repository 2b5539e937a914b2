package io.siphon.qemu;

import io.siphon.api.Connection;
import io.siphon.api.Siphon;
import io.siphon.api.contract.DriverContract;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.io.TempDir;

/** The driver contract through {@code siphon+unix://} to {@code siphon daemon --driver qemu} in a child JVM. */
@Tag("interop")
class QemuDaemonContractTest extends DriverContract {
    @TempDir
    static Path stateDir;

    private static HostedDaemon daemon;

    @BeforeAll
    static void startDaemon() throws Exception {
        daemon = HostedDaemon.start(stateDir);
    }

    @AfterAll
    static void stopDaemon() throws Exception {
        if (daemon != null) {
            daemon.close();
        }
    }

    @Override
    protected Connection connect() {
        return Siphon.connect(daemon.uri());
    }

    @Override
    protected Connection connectReadOnly() {
        return Siphon.connect("siphon+unix://" + daemon.readOnlySocket().toUri().getPath());
    }

    @Override
    protected boolean supportsPullStep() {
        return false;
    }

    /** qemu-storage-daemon keeps no block statistics of its NBD exports. */
    @Override
    protected boolean countsExportRequests() {
        return false;
    }

    /** QEMU's block-stream has no outage policy. */
    @Override
    protected boolean supportsOutagePolicy() {
        return false;
    }
}
