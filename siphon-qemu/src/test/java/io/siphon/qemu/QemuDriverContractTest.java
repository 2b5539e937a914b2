package io.siphon.qemu;

import io.siphon.api.Connection;
import io.siphon.api.Siphon;
import io.siphon.api.contract.DriverContract;
import java.nio.file.Path;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.io.TempDir;

/** The driver contract through {@code qemu:///STATEDIR}: every disk in a real qemu-storage-daemon. */
@Tag("interop")
class QemuDriverContractTest extends DriverContract {
    @TempDir
    static Path stateDir;

    @Override
    protected Connection connect() {
        return Siphon.connect("qemu://" + stateDir.toUri().getPath());
    }

    @Override
    protected Connection connectReadOnly() {
        return Siphon.connect("qemu://" + stateDir.toUri().getPath() + "?readonly=1");
    }

    /** qemu-storage-daemon keeps no block statistics of its NBD exports. */
    @Override
    protected boolean countsExportRequests() {
        return false;
    }

    /** QEMU's block-stream has no single-increment mode. */
    @Override
    protected boolean supportsPullStep() {
        return false;
    }

    /** QEMU's block-stream has no outage policy. */
    @Override
    protected boolean supportsOutagePolicy() {
        return false;
    }
}
