package io.siphon.daemon.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.testing.NotifyReceiver;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** sd_notify against a real Unix datagram socket, bound as systemd binds its own: the message arrives whole. */
@Timeout(60)
class SystemdNotifyTest {
    @TempDir
    Path dir;

    @Test
    void sendsToASocketPath() throws Exception {
        Path socket = dir.resolve("notify.sock");
        try (NotifyReceiver receiver = NotifyReceiver.bind(socket.toString())) {
            SystemdNotify.fromEnvironment(Map.of("NOTIFY_SOCKET", socket.toString()))
                    .orElseThrow()
                    .send("READY=1\nSTATUS=serving");
            assertEquals("READY=1|STATUS=serving", receiver.next());
        }
    }

    @Test
    void sendsToAnAbstractName() throws Exception {
        String name = "@siphon-test-" + ProcessHandle.current().pid() + "-" + System.nanoTime();
        try (NotifyReceiver receiver = NotifyReceiver.bind(name)) {
            SystemdNotify.fromEnvironment(Map.of("NOTIFY_SOCKET", name))
                    .orElseThrow()
                    .send("READY=1");
            assertEquals("READY=1", receiver.next());
        }
    }

    @Test
    void withoutTheVariableThereIsNoNotifier() {
        assertTrue(SystemdNotify.fromEnvironment(Map.of()).isEmpty());
        assertTrue(SystemdNotify.fromEnvironment(Map.of("NOTIFY_SOCKET", "")).isEmpty());
    }

    @Test
    void aSocketNobodyListensOnIsAnError() {
        Path missing = dir.resolve("none.sock");
        IOException e = assertThrows(
                IOException.class,
                () -> SystemdNotify.fromEnvironment(Map.of("NOTIFY_SOCKET", missing.toString()))
                        .orElseThrow()
                        .send("READY=1"));
        assertTrue(e.getMessage().startsWith("sendto " + missing + " failed: errno "), e.getMessage());
        assertTrue(Files.notExists(missing));
    }
}
