package io.siphon.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.siphon.api.Connection;
import io.siphon.api.DomainState;
import io.siphon.api.Siphon;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Domains marked autostart start when a daemon starts, on either driver it hosts; one that cannot
 * start is logged and the others still start.
 */
class AutostartTest {
    @TempDir
    Path dir;

    private static Connection connect(Daemon daemon) {
        return Siphon.connect("siphon+unix://" + daemon.socket().toUri().getPath());
    }

    @ParameterizedTest
    @ValueSource(strings = {"embedded", "qemu"})
    void markedDomainsStartWithTheDaemon(String driver) throws Exception {
        Path state = dir.resolve("state");
        Path brokenDisk;
        try (Daemon daemon = Daemon.start(state, driver, Optional.empty(), Optional.empty(), Optional.empty());
                Connection connection = connect(daemon)) {
            connection.define(TestDomains.rawDomainXml(dir, "auto")).setAutostart(true);
            connection.define(TestDomains.rawDomainXml(dir, "manual"));
            connection.define(TestDomains.rawDomainXml(dir, "broken")).setAutostart(true);
            brokenDisk = Path.of(connection.lookup("broken").disks().getFirst().source());
            assertEquals(DomainState.SHUTOFF, connection.lookup("auto").info().state());
        }
        Files.delete(brokenDisk);
        try (Daemon daemon = Daemon.start(state, driver, Optional.empty(), Optional.empty(), Optional.empty());
                Connection connection = connect(daemon)) {
            assertEquals(DomainState.RUNNING, connection.lookup("auto").info().state());
            assertEquals(DomainState.SHUTOFF, connection.lookup("manual").info().state());
            assertEquals(DomainState.SHUTOFF, connection.lookup("broken").info().state());
            connection.lookup("auto").destroy();
        }
    }
}
