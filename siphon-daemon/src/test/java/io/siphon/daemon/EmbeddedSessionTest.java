package io.siphon.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.api.SiphonEvent;
import io.siphon.api.spi.EngineSession;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Event delivery of the embedded driver's sessions ({@link EngineSession} on an {@link EmbeddedEngine}). */
class EmbeddedSessionTest {
    @TempDir
    Path dir;

    @Test
    void aConsumerThatDoesNotKeepUpIsCutOffInsteadOfFillingMemory() throws Exception {
        DomainManager manager = SharedManagers.acquire(dir.resolve("state"));
        AtomicInteger overflows = new AtomicInteger();
        CountDownLatch release = new CountDownLatch(1);
        List<SiphonEvent> received = new CopyOnWriteArrayList<>();
        try (EngineSession stuck =
                        new EngineSession(new EmbeddedEngine(manager), false, () -> {}, overflows::incrementAndGet, 2);
                EngineSession healthy = EmbeddedEngine.session(manager, false, () -> {})) {
            stuck.setEventSink(event -> {
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                received.add(event);
            });
            CountDownLatch healthySaw = new CountDownLatch(6);
            healthy.setEventSink(event -> healthySaw.countDown());
            for (int i = 0; i < 6; i++) {
                healthy.define(TestDomains.rawDomainXml(dir, "d" + i));
            }
            assertTrue(healthySaw.await(30, TimeUnit.SECONDS), "the other session got every event");
            assertEquals(1, overflows.get(), "told once");
            release.countDown();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (received.size() < 2 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertTrue(received.size() >= 2 && received.size() <= 3, () -> "received " + received);
        } finally {
            SharedManagers.release(manager);
        }
    }
}
