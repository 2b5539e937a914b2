package io.siphon.blockjob;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.format.ImageChain;
import io.siphon.format.OpenOptions;
import io.siphon.format.RemoteBackingPolicy;
import io.siphon.job.Job;
import io.siphon.job.JobEvent;
import io.siphon.job.JobStatus;
import io.siphon.testing.QemuTools;
import io.siphon.testing.RangeHttpServer;
import io.siphon.testing.RemoteClones;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A pull of a clone whose template is on a real HTTP server that stops and comes back mid-pull. */
class RemotePullTest {
    private static final int SIZE = 24 << 20;

    @TempDir
    Path dir;

    private RangeHttpServer server;
    private byte[] template;
    private RemoteBackingPolicy policy;

    @BeforeEach
    void start() throws Exception {
        template = RemoteClones.randomTemplate("RemotePullTest", SIZE);
        Files.write(dir.resolve("t.raw"), template);
        server = RangeHttpServer.start();
        server.serve("t.raw", dir.resolve("t.raw"));
        // no readahead, so that the pull fetches as it goes and an outage finds chunks still to fetch
        policy = RemoteClones.policy(dir.resolve("cache"), 1, Duration.ofMillis(300));
        RemoteClones.create(dir.resolve("c.qcow2"), server.url("t.raw").toString(), Optional.of("raw"), policy);
    }

    @AfterEach
    void stop() {
        server.close();
    }

    /** The next event that is not a RUNNING status change (the pull starts and resumes with those). */
    private static JobEvent next(BlockingQueue<JobEvent> events) throws InterruptedException {
        while (true) {
            JobEvent event = events.poll(60, TimeUnit.SECONDS);
            if (event == null) {
                throw new AssertionError("no job event in 60 s");
            }
            if (!(event instanceof JobEvent.StatusChanged changed && changed.status() == JobStatus.RUNNING)) {
                return event;
            }
        }
    }

    @Test
    void aPullPausesWhileTheServerIsDownAndFinishesWhenItReturns() throws Exception {
        BlockingQueue<JobEvent> events = new ArrayBlockingQueue<>(1000);
        try (Disk disk = Disk.open("vda", dir.resolve("c.qcow2"), Optional.of("qcow2"), false, policy)) {
            Job job = StreamJob.create(
                    disk,
                    StreamOptions.defaults()
                            .withSpeed(8 << 20)
                            .withOnOutage(new OutagePolicy(true, Duration.ofMillis(50))));
            job.addListener(events::add);
            job.start();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (server.bytesServed() < (2 << 20) && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            server.stop();
            JobEvent.ErrorReported error = assertInstanceOf(JobEvent.ErrorReported.class, next(events));
            assertTrue(error.stopped());
            assertTrue(error.message().contains(server.url("t.raw").toString()), error.message());
            assertTrue(error.message().contains("unreachable"), error.message());
            assertEquals(
                    new JobEvent.StatusChanged(
                            error.jobId(),
                            error.jobType(),
                            error.device(),
                            JobStatus.PAUSED,
                            error.curBytes(),
                            error.endBytes()),
                    next(events));
            assertEquals(JobStatus.PAUSED, job.info().status());
            assertEquals(Optional.of(error.message()), job.info().error());
            server.restart();
            assertTrue(job.awaitEnd(Duration.ofSeconds(120)));
            JobEvent end;
            do {
                end = next(events);
            } while (end instanceof JobEvent.StatusChanged);
            assertInstanceOf(JobEvent.Completed.class, end, String.valueOf(end));
        }
        try (ImageChain chain = ImageChain.open(dir.resolve("c.qcow2"), Optional.of("qcow2"), OpenOptions.READ_ONLY)) {
            assertFalse(chain.top().backingReference().isPresent());
            ByteBuffer all = ByteBuffer.allocate(SIZE);
            chain.top().read(0, all);
            assertArrayEquals(template, all.array());
        }
        QemuTools.ok("qemu-img", "check", dir.resolve("c.qcow2").toString());
        QemuTools.ok(
                "qemu-img",
                "compare",
                dir.resolve("c.qcow2").toString(),
                dir.resolve("t.raw").toString());
    }

    @Test
    void aPartialPullKeepsTheRemoteTemplateAsItsBase() throws Exception {
        Path middle = dir.resolve("c.qcow2");
        QemuTools.write(middle, "qcow2", 0x5a, 1 << 20, 1 << 20);
        Path top = dir.resolve("top.qcow2");
        QemuTools.createOverlay(top, "c.qcow2", "qcow2");
        String url = server.url("t.raw").toString();
        try (Disk disk = Disk.open("vda", top, Optional.of("qcow2"), false, policy)) {
            Job job = StreamJob.create(disk, StreamOptions.defaults().withBase(Path.of(url), false));
            job.start();
            assertTrue(job.awaitEnd(Duration.ofSeconds(60)));
        }
        assertEquals(url, QemuTools.backingName(top), "the top names the template as the chain did");
        byte[] expected = template.clone();
        java.util.Arrays.fill(expected, 1 << 20, 2 << 20, (byte) 0x5a);
        assertArrayEquals(expected, RemoteClones.readAll(top, policy));
    }
}
