package io.siphon.daemon.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.api.BlockJobInfo;
import io.siphon.api.BlockJobStatus;
import io.siphon.api.Domain;
import io.siphon.api.PullFlag;
import io.siphon.api.SpeedFlag;
import io.siphon.blockjob.Disk;
import io.siphon.job.Job;
import io.siphon.job.JobStatus;
import io.siphon.testing.QemuTools;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** /metrics scraped during a real pull, parsed strictly: counters only grow, and the bytes add up. */
@Tag("interop")
class WebMetricsTest {
    private static final int TEMPLATE_MIB = 16;

    @TempDir
    Path dir;

    private static PrometheusText scrape(ConsoleFixture fixture) throws Exception {
        HttpResponse<String> reply = fixture.get("/metrics");
        assertEquals(200, reply.statusCode(), reply.body());
        assertTrue(
                reply.headers().firstValue("Content-Type").orElse("").startsWith("text/plain"),
                reply.headers().toString());
        return PrometheusText.parse(reply.body());
    }

    /** Every counter and histogram sample of {@code before} is still there in {@code after}, no smaller. */
    private static void assertGrewOnly(PrometheusText before, PrometheusText after) {
        for (Map.Entry<String, Double> sample : before.samples().entrySet()) {
            String type = before.typeOf(sample.getKey());
            if (!type.equals("counter") && !type.equals("histogram")) {
                continue;
            }
            Double now = after.samples().get(sample.getKey());
            if (now == null) {
                continue; // a series that ended (a job that finished) may go; one that stays must not shrink
            }
            assertTrue(now >= sample.getValue(), sample.getKey() + " went from " + sample.getValue() + " to " + now);
        }
    }

    /** Scrapes until sample {@code name} with {@code labels} is {@code wanted}, for at most 30 s. */
    private static PrometheusText awaitSample(ConsoleFixture fixture, String name, double wanted, String... labels)
            throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            PrometheusText now = scrape(fixture);
            if (now.value(name, labels).orElse(Double.NaN) == wanted) {
                return now;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError(name + " " + String.join(",", labels) + " is not " + wanted + " after 30 s: "
                        + now.value(name, labels));
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50)); // pacing the polls, not a timing bet
        }
    }

    @Test
    void countersGrowDuringAPullAndTheBytesCopiedAreWhatTheJobReports() throws Exception {
        try (ConsoleFixture fixture = new ConsoleFixture(dir, TEMPLATE_MIB)) {
            Domain domain = fixture.connection.lookup("web");
            PrometheusText first = scrape(fixture);
            assertEquals(1.0, first.value("siphon_domains", "state", "running").orElseThrow());
            assertEquals(
                    (double) TEMPLATE_MIB * ConsoleFixture.MIB,
                    first.value("siphon_disk_size_bytes", "domain", "web", "disk", "vda")
                            .orElseThrow());
            assertTrue(
                    first.types().containsKey("jvm_memory_used_bytes"),
                    "JVM metrics: " + first.types().keySet());

            // 4 MiB/s: the 16 MiB pull lasts about four seconds, long enough to be seen moving
            domain.blockPull("vda", 4L * ConsoleFixture.MIB, Set.of(PullFlag.BANDWIDTH_BYTES));
            String nbd =
                    fixture.connection.lookup("web").disks().getFirst().nbdUri().orElseThrow();
            QemuTools.ok("qemu-io", "-r", "-f", "raw", "-c", "read 0 1M", "-c", "read 8M 64k", nbd);

            PrometheusText previous = first;
            int scrapes = 0;
            while (fixture.jobEvents.isEmpty() && scrapes < 20) {
                PrometheusText now = scrape(fixture);
                assertGrewOnly(previous, now);
                previous = now;
                scrapes++;
                BlockJobInfo info = domain.blockJobInfo("vda").orElse(null);
                if (info != null && info.curBytes() >= 2L * ConsoleFixture.MIB) {
                    break;
                }
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100)); // pacing the scrapes
            }

            // paused, the job's figures hold still: the metrics must say exactly what the job says
            domain.blockJobPause("vda");
            Disk disk = fixture.daemon.view().runningDisk("web", "vda").orElseThrow();
            Job job = disk.job().orElseThrow();
            assertTrue(job.awaitStatus(JobStatus.PAUSED, Duration.ofSeconds(60)), "the pull did not pause");
            BlockJobInfo info = domain.blockJobInfo("vda").orElseThrow();
            PrometheusText paused = scrape(fixture);
            assertGrewOnly(previous, paused);
            double copied = paused.value("siphon_job_copied_bytes_total", "domain", "web", "disk", "vda")
                    .orElseThrow();
            assertEquals((double) job.info().progress().copiedBytes(), copied);
            // the template is all data and the top was empty: every byte processed was copied
            assertEquals((double) info.curBytes(), copied);
            assertTrue(copied > 0, "nothing copied yet");
            assertEquals(
                    copied,
                    paused.value("siphon_disk_copied_bytes_total", "domain", "web", "disk", "vda")
                            .orElseThrow());
            assertEquals(
                    1.0,
                    paused.value("siphon_job_state", "domain", "web", "disk", "vda", "state", "paused")
                            .orElseThrow());
            assertEquals(
                    0.0,
                    paused.value("siphon_job_state", "domain", "web", "disk", "vda", "state", "running")
                            .orElseThrow());
            assertEquals(
                    (double) 4 * ConsoleFixture.MIB,
                    paused.value("siphon_job_speed_limit_bytes_per_second", "domain", "web", "disk", "vda")
                            .orElseThrow());
            assertTrue(paused.value("siphon_disk_template_read_bytes_total", "domain", "web", "disk", "vda")
                            .orElseThrow()
                    >= copied);

            // NBD: qemu-io's connection, its reads, their bytes and latencies. The server counts a
            // request after its reply, and a connection's close after all its requests: wait for that.
            String export = "web/vda";
            paused = awaitSample(fixture, "siphon_nbd_open_connections", 0.0, "export", export);
            assertTrue(paused.value("siphon_nbd_connections_total", "export", export)
                            .orElseThrow()
                    >= 1);
            assertEquals(
                    (double) (ConsoleFixture.MIB + 64 * 1024),
                    paused.value("siphon_nbd_read_bytes_total", "export", export)
                            .orElseThrow());
            assertTrue(paused.value("siphon_nbd_requests_total", "export", export, "command", "read")
                            .orElseThrow()
                    >= 2);
            assertTrue(paused.value("siphon_nbd_request_duration_seconds_count", "command", "read")
                            .orElseThrow()
                    >= 2);
            assertEquals(
                    paused.value("siphon_nbd_request_duration_seconds_count", "command", "read"),
                    paused.value("siphon_nbd_request_duration_seconds_bucket", "command", "read", "le", "+Inf"));

            // control protocol: what this test sent, and one refusal
            assertThrows(RuntimeException.class, () -> domain.blockJobPause("vda")); // already paused
            domain.blockJobSetSpeed("vda", 0, Set.of(SpeedFlag.BANDWIDTH_BYTES));
            domain.blockJobResume("vda");
            assertEquals(BlockJobStatus.COMPLETED, fixture.awaitJobEvent().status());
            PrometheusText done = scrape(fixture);
            assertGrewOnly(paused, done);
            assertTrue(done.value("siphon_control_requests_total", "command", "block-pull")
                            .orElseThrow()
                    >= 1);
            assertTrue(
                    done.value("siphon_control_errors_total", "command", "block-job-pause", "code", "OPERATION_INVALID")
                                    .orElseThrow()
                            >= 1);
            assertEquals(
                    (double) TEMPLATE_MIB * ConsoleFixture.MIB,
                    done.value("siphon_disk_copied_bytes_total", "domain", "web", "disk", "vda")
                            .orElseThrow());
            assertFalse(done.value("siphon_job_copied_bytes_total", "domain", "web", "disk", "vda")
                    .isPresent());
            assertEquals(
                    1.0,
                    done.value("siphon_disk_chain_images", "domain", "web", "disk", "vda")
                            .orElseThrow());
        }
    }

    @Test
    void theParserRefusesWhatIsNotTheTextFormat() {
        assertThrows(IllegalArgumentException.class, () -> PrometheusText.parse("x_total 1\n")); // no TYPE
        assertThrows(IllegalArgumentException.class, () -> PrometheusText.parse("# TYPE x counter\nx_total one\n"));
        assertThrows(IllegalArgumentException.class, () -> PrometheusText.parse("# TYPE x gauge\nx{a=\"1} 1\n"));
        assertThrows(IllegalArgumentException.class, () -> PrometheusText.parse("# TYPE x gauge\nx 1\nx 2\n"));
        assertThrows(IllegalArgumentException.class, () -> PrometheusText.parse("# TYPE x gauge\nx 1"));
        PrometheusText ok = PrometheusText.parse("# HELP x a gauge\n# TYPE x gauge\nx{b=\"2\",a=\"q\\\"\"} +Inf\n");
        assertEquals(
                Double.POSITIVE_INFINITY, ok.value("x", "a", "q\\\"", "b", "2").orElseThrow());
    }
}
