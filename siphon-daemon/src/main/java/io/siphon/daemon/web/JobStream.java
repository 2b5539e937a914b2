package io.siphon.daemon.web;

import io.javalin.http.sse.SseClient;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArraySet;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Pushes the console's state to every page over Server-Sent Events: a {@code state} event with
 * the whole snapshot when a page connects, every {@link #PERIOD_MILLIS} while anyone listens (so
 * progress, rate and the allocation map move), and at once when a job or domain event arrives.
 * One thread builds each snapshot once for all pages. Thread-safe.
 */
final class JobStream implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(JobStream.class);

    static final long PERIOD_MILLIS = 500;
    /** Pages listening at once; a further one is refused with 503. */
    static final int MAX_CLIENTS = 64;

    private final ConsoleModel model;
    private final Set<SseClient> clients = new CopyOnWriteArraySet<>();
    private final Semaphore wake = new Semaphore(0);
    private final Thread ticker;
    private volatile boolean closed;

    JobStream(ConsoleModel model) {
        this.model = model;
        this.ticker = Thread.ofVirtual().name("siphon-web-stream").start(this::run);
    }

    boolean full() {
        return clients.size() >= MAX_CLIENTS;
    }

    /** Adds a page: it gets the state now and then every update until it goes away. */
    void add(SseClient client) {
        client.keepAlive();
        client.onClose(() -> clients.remove(client));
        clients.add(client);
        wake();
    }

    /** Sends an update soon (an event changed what the pages show). */
    void wake() {
        wake.release();
    }

    private void run() {
        while (!closed) {
            try {
                wake.tryAcquire(PERIOD_MILLIS, TimeUnit.MILLISECONDS);
                wake.drainPermits();
            } catch (InterruptedException e) {
                return;
            }
            if (clients.isEmpty() || closed) {
                continue;
            }
            String state;
            try {
                state = model.snapshot().toString();
            } catch (RuntimeException e) {
                LOG.warn("web console: building the state failed: {}", e.toString());
                continue;
            }
            for (SseClient client : clients) {
                if (client.terminated()) {
                    clients.remove(client);
                    continue;
                }
                try {
                    client.sendEvent("state", state);
                } catch (RuntimeException e) {
                    LOG.debug("web console: a page went away: {}", e.toString());
                    clients.remove(client);
                }
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        ticker.interrupt();
        for (SseClient client : clients) {
            if (client.terminated()) {
                continue;
            }
            try {
                client.close();
            } catch (RuntimeException e) {
                LOG.debug("closing a page's stream", e);
            }
        }
        clients.clear();
    }
}
