package io.siphon.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.api.BlockJobEvent;
import io.siphon.api.Connection;
import io.siphon.api.LifecycleEvent;
import io.siphon.api.ListenerHandle;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** Small domains for tests about connections rather than disks. */
final class TestDomains {
    private TestDomains() {}

    /** The XML of domain {@code name} with one 4 KiB raw disk (created in {@code dir}) as vda. */
    static String rawDomainXml(Path dir, String name) throws IOException {
        Path image = Files.write(dir.resolve(name + ".img"), new byte[4096]);
        return "<domain><name>" + name + "</name><devices><disk type='file'><driver type='raw'/><source file='" + image
                + "'/><target dev='vda'/></disk></devices></domain>";
    }

    /** The next block job event, waiting up to 120 s for it. */
    static BlockJobEvent awaitEvent(BlockingQueue<BlockJobEvent> events) throws InterruptedException {
        BlockJobEvent event = events.poll(120, TimeUnit.SECONDS);
        if (event == null) {
            throw new AssertionError("no block job event within 120 s");
        }
        return event;
    }

    /** Defines {@code name} through {@code definer} and checks that {@code watcher} sees its event and it. */
    static void defineAndSee(Connection definer, Connection watcher, Path dir, String name) throws Exception {
        BlockingQueue<LifecycleEvent> events = new LinkedBlockingQueue<>();
        ListenerHandle handle = watcher.addLifecycleListener(events::add);
        try {
            definer.define(rawDomainXml(dir, name));
            assertEquals(new LifecycleEvent(name, LifecycleEvent.Kind.DEFINED), events.poll(30, TimeUnit.SECONDS));
        } finally {
            handle.close();
        }
        assertTrue(watcher.list().stream().anyMatch(d -> d.name().equals(name)));
    }
}
