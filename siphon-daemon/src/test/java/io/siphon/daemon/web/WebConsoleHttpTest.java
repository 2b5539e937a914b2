package io.siphon.daemon.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.siphon.api.BlockJobInfo;
import io.siphon.api.BlockJobState;
import io.siphon.api.BlockJobStatus;
import io.siphon.api.Domain;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The console over plain HTTP: what it shows, its write actions, and bad input of every kind. */
@Tag("interop")
class WebConsoleHttpTest {
    @TempDir
    Path dir;

    private ConsoleFixture fixture;
    private Domain domain;

    @BeforeEach
    void start() throws Exception {
        fixture = new ConsoleFixture(dir, 4);
        domain = fixture.connection.lookup("web");
    }

    @AfterEach
    void stop() throws Exception {
        fixture.close();
    }

    private HttpResponse<String> post(String action, String body, Map<String, String> headers) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(
                        URI.create(fixture.base() + "/api/domains/web/disks/vda/" + action))
                .POST(HttpRequest.BodyPublishers.ofString(body));
        headers.forEach(request::header);
        return fixture.http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private Map<String, String> writer() {
        return Map.of("X-Siphon-Token", fixture.console.token(), "Content-Type", "application/json");
    }

    /** A raw request line and headers, for what java.net.http will not send; returns the status line. */
    private String raw(String request) throws IOException {
        try (Socket socket = new Socket("127.0.0.1", fixture.console.port())) {
            OutputStream out = socket.getOutputStream();
            out.write(request.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            InputStream in = socket.getInputStream();
            String reply = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
            return reply.lines().findFirst().orElse("");
        }
    }

    private JsonNode state() throws Exception {
        HttpResponse<String> reply = fixture.get("/api/state");
        assertEquals(200, reply.statusCode(), reply.body());
        return ConsoleModel.JSON.readTree(reply.body());
    }

    @Test
    void theStateShowsDomainsChainsNbdUrisAndTheAllocationMap() throws Exception {
        JsonNode disk = state().get("domains").get(0).get("disks").get(0);
        assertEquals("web", state().get("domains").get(0).get("name").asText());
        assertEquals("RUNNING", state().get("domains").get(0).get("state").asText());
        assertEquals("vda", disk.get("target").asText());
        assertTrue(disk.get("nbdUri").asText().startsWith("nbd+unix:///web%2Fvda?socket="), disk.toString());
        assertEquals(2, disk.get("chain").size());
        assertEquals("qcow2", disk.get("chain").get(0).get("format").asText());
        assertEquals("raw", disk.get("chain").get(1).get("format").asText());
        assertTrue(disk.get("chain").get(1).get("path").asText().endsWith("template.raw"), disk.toString());
        String cells = disk.get("map").get("cells").asText();
        assertTrue(cells.matches("B+"), "all from the template before a pull: " + cells);

        HttpResponse<String> page = fixture.get("/");
        assertEquals(200, page.statusCode());
        assertTrue(page.body().contains("<script src=\"/console.js\""), page.body());
        assertEquals(200, fixture.get("/console.js").statusCode());
        assertEquals(200, fixture.get("/console.css").statusCode());
    }

    @Test
    void aPullStartedWithTheTokenRunsAndTheMapFillsIn() throws Exception {
        HttpResponse<String> pulled = post("pull", "{\"bytesPerSecond\":0}", writer());
        assertEquals(200, pulled.statusCode(), pulled.body());
        assertEquals(BlockJobStatus.COMPLETED, fixture.awaitJobEvent().status());
        JsonNode disk = state().get("domains").get(0).get("disks").get(0);
        assertEquals(1, disk.get("chain").size(), disk.toString());
        assertTrue(disk.get("map").get("cells").asText().matches("T+"), disk.toString());
        assertEquals("COMPLETED", disk.get("lastJob").get("status").asText());
    }

    @Test
    void withoutTheTokenOrFromAnotherOriginNothingChanges() throws Exception {
        assertEquals(
                403,
                post("pull", "{}", Map.of("Content-Type", "application/json")).statusCode());
        assertEquals(
                403,
                post("pull", "{}", Map.of("Content-Type", "application/json", "X-Siphon-Token", "wrong"))
                        .statusCode());
        // the right token but a form's content type, or another site's page, is a cross-site request
        for (Map<String, String> crossSite : List.of(
                Map.of("Content-Type", "application/x-www-form-urlencoded"),
                Map.of("Content-Type", "application/json", "Origin", "http://evil.example"),
                Map.of("Content-Type", "application/json", "Sec-Fetch-Site", "cross-site"))) {
            Map<String, String> headers = new HashMap<>(crossSite);
            headers.put("X-Siphon-Token", fixture.console.token());
            assertEquals(403, post("pull", "{}", headers).statusCode(), crossSite.toString());
        }
        assertEquals(Optional.empty(), domain.blockJobInfo("vda"));
        assertTrue(fixture.jobEvents.isEmpty());
        // a name a rebinding DNS points at the loopback console reads nothing either
        assertTrue(raw("GET /api/state HTTP/1.1\r\nHost: evil.example:" + fixture.console.port()
                        + "\r\nConnection: close\r\n\r\n")
                .contains(" 403"));
    }

    @Test
    void badInputGetsItsStatusAndTheDaemonGoesOn() throws Exception {
        assertEquals(404, fixture.get("/nothing/here").statusCode());
        assertEquals(404, fixture.get("/api/domains/web").statusCode());
        assertEquals(404, post("explode", "{}", writer()).statusCode());
        assertEquals(
                404,
                fixture.http
                        .send(
                                HttpRequest.newBuilder(URI.create(fixture.base() + "/api/domains/nope/disks/vda/pull"))
                                        .POST(HttpRequest.BodyPublishers.ofString("{}"))
                                        .header("X-Siphon-Token", fixture.console.token())
                                        .header("Content-Type", "application/json")
                                        .build(),
                                HttpResponse.BodyHandlers.ofString())
                        .statusCode());
        assertEquals(400, post("pull", "{not json", writer()).statusCode());
        assertEquals(400, post("pull", "[1]", writer()).statusCode());
        assertEquals(400, post("pull", "{\"bytesPerSecond\":-5}", writer()).statusCode());
        assertEquals(
                400, post("pull", "{\"bytesPerSecond\":\"fast\"}", writer()).statusCode());
        assertEquals(400, post("pull", "{\"surprise\":1}", writer()).statusCode());
        assertEquals(
                400,
                post("pull", "{\"base\":\"" + "x".repeat(ConsoleActions.MAX_BODY_BYTES) + "\"}", writer())
                        .statusCode());
        assertEquals(409, post("pause", "{}", writer()).statusCode()); // no job to pause
        assertTrue(
                raw("GET /%zz HTTP/1.1\r\nHost: 127.0.0.1:" + fixture.console.port() + "\r\nConnection: close\r\n\r\n")
                        .contains(" 400"));
        assertTrue(raw("BLAH\r\n\r\n").contains(" 400"));
        assertEquals(Optional.empty(), domain.blockJobInfo("vda"));

        // still serving, and the daemon still works
        assertEquals(200, fixture.get("/api/state").statusCode());
        HttpResponse<String> pulled = post("pull", "{\"bytesPerSecond\":65536}", writer());
        assertEquals(200, pulled.statusCode(), pulled.body());
        BlockJobInfo info = domain.blockJobInfo("vda").orElseThrow();
        assertEquals(65536, info.bandwidthBytesPerSecond());
        assertEquals(200, post("speed", "{\"bytesPerSecond\":131072}", writer()).statusCode());
        assertEquals(131072, domain.blockJobInfo("vda").orElseThrow().bandwidthBytesPerSecond());
        assertEquals(400, post("speed", "{}", writer()).statusCode());
        assertEquals(200, post("pause", "", writer()).statusCode());
        assertEquals(
                BlockJobState.PAUSED, domain.blockJobInfo("vda").orElseThrow().state());
        assertEquals(200, post("resume", "{}", writer()).statusCode());
        assertEquals(200, post("abort", "{}", writer()).statusCode());
        assertEquals(BlockJobStatus.CANCELED, fixture.awaitJobEvent().status());
        assertFalse(domain.blockJobInfo("vda").isPresent());
    }
}
