package io.siphon.daemon;

import io.siphon.api.Connection;
import io.siphon.api.Siphon;
import io.siphon.api.contract.DriverContract;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

/** The driver contract through {@code embedded:///STATEDIR}. */
class EmbeddedDriverContractTest extends DriverContract {
    @TempDir
    static Path stateDir;

    @Override
    protected Connection connect() {
        return Siphon.connect("embedded://" + stateDir.toUri().getPath());
    }

    @Override
    protected Connection connectReadOnly() {
        return Siphon.connect("embedded://" + stateDir.toUri().getPath() + "?readonly=1");
    }
}
