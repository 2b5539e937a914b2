package io.siphon.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code siphon daemon --http}: off by default, loopback serves quietly, anything else is said. */
class DaemonHttpOptionTest {
    private static final Pattern CONSOLE = Pattern.compile("web console on http://([^/]+)/ .*write token: (\\S+)");

    @TempDir
    Path dir;

    /** The console's log line, once the daemon has written it (at most 60 s). */
    private static Matcher consoleLine(DaemonProcess daemon) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            Matcher m = CONSOLE.matcher(daemon.log());
            if (m.find()) {
                return m;
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50)); // pacing the reads of the log
        }
        throw new AssertionError("no web console line in the log: " + daemon.log());
    }

    @Test
    void withoutTheOptionThereIsNoConsole() throws Exception {
        try (DaemonProcess daemon = DaemonProcess.start(dir.resolve("state"))) {
            assertFalse(daemon.log().contains("web console"), daemon.log());
        }
    }

    @Test
    void onLoopbackTheConsoleServesMetricsAndTheTokenIsLogged() throws Exception {
        try (DaemonProcess daemon = DaemonProcess.start(dir.resolve("state"), List.of("--http", "127.0.0.1:0"))) {
            Matcher line = consoleLine(daemon);
            assertTrue(line.group(2).length() >= 40, "a long token: " + line.group(2));
            HttpResponse<String> metrics = HttpClient.newHttpClient()
                    .send(
                            HttpRequest.newBuilder(URI.create("http://" + line.group(1) + "/metrics"))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString());
            assertEquals(200, metrics.statusCode());
            assertTrue(metrics.body().contains("siphon_domains{state=\"running\"} 0"), metrics.body());
            assertFalse(daemon.log().contains("not a loopback address"), daemon.log());
        }
    }

    @Test
    void bindingElsewhereIsSaidInTheLog() throws Exception {
        try (DaemonProcess daemon = DaemonProcess.start(dir.resolve("state"), List.of("--http", "0.0.0.0:0"))) {
            consoleLine(daemon);
            assertTrue(daemon.log().contains("binds to 0.0.0.0, which is not a loopback address"), daemon.log());
        }
    }
}
