package io.siphon.daemon;

import io.siphon.api.Connection;
import io.siphon.api.Siphon;
import io.siphon.api.contract.DriverContract;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/** The driver contract through {@code siphon+unix://} to a daemon in a child JVM. */
class RemoteDriverContractTest extends DriverContract {
    @TempDir
    static Path stateDir;

    private static DaemonProcess daemon;

    @BeforeAll
    static void startDaemon() throws Exception {
        daemon = DaemonProcess.start(stateDir);
    }

    @AfterAll
    static void stopDaemon() throws Exception {
        if (daemon != null) {
            daemon.close();
        }
    }

    @Override
    protected Connection connect() {
        return Siphon.connect("siphon+unix://" + daemon.socket().toUri().getPath());
    }

    @Override
    protected Connection connectReadOnly() {
        return Siphon.connect("siphon+unix://" + daemon.readOnlySocket().toUri().getPath());
    }
}
