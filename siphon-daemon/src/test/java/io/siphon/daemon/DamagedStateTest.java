package io.siphon.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.api.Connection;
import io.siphon.api.DomainInfo;
import io.siphon.api.DomainState;
import io.siphon.api.Siphon;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A state directory damaged by hand or by a failing disk: a definition that is not UTF-8 and a job
 * record that is not UTF-8 are each skipped with one log line naming the file, never a stack trace,
 * and the daemon serves the rest.
 */
class DamagedStateTest {
    @TempDir
    Path dir;

    @Test
    void aDefinitionOrJobRecordThatIsNotUtf8IsSkippedWithOneLineNamingIt() throws Exception {
        Path state = dir.resolve("state");
        try (DaemonProcess first = DaemonProcess.start(state);
                Connection connection = Siphon.connect("siphon+unix://" + first.socket())) {
            connection.define(TestDomains.rawDomainXml(dir, "good"));
        }
        byte[] latin1 = "<domain><name>caf\u00e9</name></domain>".getBytes(StandardCharsets.ISO_8859_1);
        Path badDefinition = Files.write(state.resolve("domains/bad.xml"), latin1);
        Path badRecord = Files.write(
                state.resolve("jobs/good.vda.job"), "base=/caf\u00e9\n".getBytes(StandardCharsets.ISO_8859_1));
        Files.delete(state.resolve("daemon.log"));

        try (DaemonProcess second = DaemonProcess.start(state);
                Connection connection = Siphon.connect("siphon+unix://" + second.socket())) {
            assertEquals(
                    List.of("good"),
                    connection.list().stream().map(DomainInfo::name).toList());
            connection.lookup("good").start();
            assertEquals(DomainState.RUNNING, connection.lookup("good").info().state());
            String log = second.log();
            assertTrue(
                    log.contains("ignoring an unreadable definition " + badDefinition + ": not valid UTF-8 text"), log);
            assertTrue(log.contains("ignoring damaged job record " + badRecord + ": not valid UTF-8 text"), log);
            assertFalse(log.contains("Exception"), log);
            assertFalse(log.contains("\tat "), log);
        }
    }
}
