package io.siphon.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.protocol.FrameReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The control server against bad input: a clear error or a clean close, and others keep being served. */
class ControlServerTest {
    @TempDir
    Path stateDir;

    private Daemon daemon;

    @BeforeEach
    void start() throws IOException {
        daemon = Daemon.start(stateDir, Optional.empty(), Optional.empty());
    }

    @AfterEach
    void stop() throws IOException {
        daemon.close();
    }

    private RawClient client() throws Exception {
        RawClient client = new RawClient(daemon.socket());
        Map<?, ?> greeting = client.next().orElseThrow();
        assertTrue(greeting.containsKey("QMP"), greeting::toString);
        return client;
    }

    private String domainXml(String name) throws IOException {
        return TestDomains.rawDomainXml(stateDir, name);
    }

    private static String quote(String text) {
        return "\"" + text.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n") + "\"";
    }

    @Test
    void socketsHaveTheirModesAndTheGreetingNamesCapabilities() throws Exception {
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(daemon.socket())));
        try (RawClient ro = new RawClient(daemon.readOnlySocket())) {
            Map<?, ?> greeting = ro.next().orElseThrow();
            assertTrue(greeting.toString().contains("read-only"), greeting::toString);
            ro.send("{\"execute\":\"domain-define\",\"arguments\":{\"xml\":" + quote(domainXml("ro"))
                    + "},\"id\":1}\n");
            assertEquals("READ_ONLY", ro.errorClass());
            ro.send("{\"execute\":\"domain-list\",\"id\":2}\n");
            assertEquals(Map.of("return", List.of(), "id", 2L), ro.reply());
        }
    }

    @Test
    void malformedJsonGetsAnErrorAndTheConnectionGoesOn() throws Exception {
        try (RawClient client = client()) {
            client.send("{\"execute\": \"domain-list\", \n");
            Map<?, ?> reply = client.reply();
            assertEquals("PROTOCOL_ERROR", ((Map<?, ?>) reply.get("error")).get("class"));
            assertTrue(((String) ((Map<?, ?>) reply.get("error")).get("desc")).contains("offset"), reply::toString);
            client.send("[1,2]\n");
            assertEquals("PROTOCOL_ERROR", client.errorClass());
            client.send("{\"return\": {}}\n");
            assertEquals("PROTOCOL_ERROR", client.errorClass());
            client.send("{\"execute\":\"domain-list\",\"id\":\"after\"}\n");
            assertEquals(Map.of("return", List.of(), "id", "after"), client.reply());
        }
    }

    @Test
    void unknownCommandsAndWrongArgumentsAreRefusedAndChangeNothing() throws Exception {
        try (RawClient client = client()) {
            client.send("{\"execute\":\"domain-explode\",\"id\":1}\n");
            assertEquals("UNKNOWN_COMMAND", client.errorClass());
            client.send("{\"execute\":\"domain-define\",\"arguments\":{\"xml\":42},\"id\":2}\n");
            assertEquals("INVALID_ARG", client.errorClass());
            client.send("{\"execute\":\"domain-define\",\"arguments\":{\"xml\":" + quote(domainXml("typo"))
                    + ",\"force\":true},\"id\":3}\n");
            assertEquals("INVALID_ARG", client.errorClass());
            client.send("{\"execute\":\"block-pull\",\"arguments\":{\"domain\":\"x\",\"disk\":\"vda\","
                    + "\"bandwidth-bytes\":-1},\"id\":4}\n");
            assertEquals("INVALID_ARG", client.errorClass());
            client.send("{\"execute\":\"block-job-abort\",\"arguments\":{\"domain\":\"x\",\"disk\":\"vda\","
                    + "\"async\":\"yes\"},\"id\":5}\n");
            assertEquals("INVALID_ARG", client.errorClass());
            client.send("{\"execute\":\"domain-list\",\"id\":6}\n");
            assertEquals(Map.of("return", List.of(), "id", 6L), client.reply());
            assertEquals(List.of(), Files.list(stateDir.resolve("domains")).toList());
        }
    }

    @Test
    void outOfRangeNumbersGetTypedErrorsAndTheConnectionGoesOn() throws Exception {
        try (RawClient client = client()) {
            client.send("{\"execute\":\"block-job-set-speed\",\"arguments\":{\"domain\":\"x\",\"disk\":\"vda\","
                    + "\"bandwidth-bytes\":1e400},\"id\":1}\n");
            Map<?, ?> reply = client.reply();
            assertEquals("INVALID_ARG", ((Map<?, ?>) reply.get("error")).get("class"), reply::toString);
            assertEquals(1L, reply.get("id"));
            client.send("{\"execute\":\"block-pull\",\"arguments\":{\"domain\":\"x\",\"disk\":\"vda\","
                    + "\"bandwidth-bytes\":99999999999999999999},\"id\":2}\n");
            assertEquals("INVALID_ARG", client.errorClass());
            client.send("{\"execute\":\"domain-list\",\"id\":1e999}\n");
            assertEquals("PROTOCOL_ERROR", client.errorClass());
            client.send("{\"execute\":\"domain-list\",\"id\":" + "[".repeat(1000) + "]".repeat(1000) + "}\n");
            assertEquals("PROTOCOL_ERROR", client.errorClass());
            client.send("{\"execute\":\"domain-list\",\"id\":3}\n");
            assertEquals(Map.of("return", List.of(), "id", 3L), client.reply());
        }
    }

    @Test
    void anOversizedMessageGetsAnErrorAndACloseWhileOthersAreServed() throws Exception {
        try (RawClient other = client();
                RawClient big = client()) {
            String huge = "{\"execute\":\"domain-define\",\"arguments\":{\"xml\":\""
                    + "x".repeat(FrameReader.MAX_MESSAGE_BYTES) + "\"}}\n";
            Thread sender = Thread.ofVirtual().start(() -> {
                try {
                    big.send(huge);
                } catch (IOException e) {
                    // the daemon closes the connection mid-message: expected
                }
            });
            Map<?, ?> reply = big.reply();
            assertEquals("PROTOCOL_ERROR", ((Map<?, ?>) reply.get("error")).get("class"));
            assertTrue(reply.toString().contains("exceeds"), reply::toString);
            sender.join();
            assertEquals(Optional.empty(), big.next());
            other.send("{\"execute\":\"domain-list\",\"id\":1}\n");
            assertEquals(Map.of("return", List.of(), "id", 1L), other.reply());
        }
    }

    @Test
    void aClientGoneMidCommandLeavesTheDaemonServing() throws Exception {
        try (RawClient gone = client()) {
            gone.send("{\"execute\":\"domain-define\",\"arguments\":{\"xml\":" + quote(domainXml("gone"))
                    + "},\"id\":1}\n");
            gone.send("{\"execute\":\"domain-li");
        }
        // the daemon finishes the complete command even though its client left; poll until it shows
        long deadline = System.nanoTime() + 30_000_000_000L;
        try (RawClient client = client()) {
            while (true) {
                client.send("{\"execute\":\"domain-info\",\"arguments\":{\"domain\":\"gone\"},\"id\":2}\n");
                Map<?, ?> reply = client.reply();
                if (reply.get("return") instanceof Map<?, ?> info) {
                    assertEquals("gone", info.get("name"));
                    return;
                }
                assertTrue(System.nanoTime() < deadline, reply::toString);
                Thread.sleep(20);
            }
        }
    }

    @Test
    void aFloodOfConnectionsIsCappedAndTheDaemonRecovers() throws Exception {
        List<RawClient> flood = new ArrayList<>();
        try {
            for (int i = 0; i < ControlServer.MAX_CLIENTS; i++) {
                flood.add(client());
            }
            try (RawClient extra = new RawClient(daemon.socket())) {
                Map<?, ?> refusal = extra.next().orElseThrow();
                assertTrue(refusal.toString().contains("too many clients"), refusal::toString);
                assertEquals(Optional.empty(), extra.next());
            }
        } finally {
            for (RawClient client : flood) {
                client.close();
            }
        }
        // slots come back as the flood's connections end
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (true) {
            try (RawClient client = new RawClient(daemon.socket())) {
                Map<?, ?> first = client.next().orElseThrow();
                if (first.containsKey("QMP")) {
                    client.send("{\"execute\":\"domain-list\",\"id\":1}\n");
                    assertEquals(Map.of("return", List.of(), "id", 1L), client.reply());
                    return;
                }
            }
            assertTrue(System.nanoTime() < deadline, "the daemon did not recover from the flood");
            Thread.sleep(20);
        }
    }
}
