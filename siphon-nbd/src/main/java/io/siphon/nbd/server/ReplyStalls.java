package io.siphon.nbd.server;

import io.siphon.nbd.protocol.NbdChannel;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Closes a connection whose client has not taken a reply for the stall timeout: a client that sends
 * requests and never reads the replies would otherwise hold its requests' memory (of the shared
 * {@link InFlightBudget}) for ever, and every other client would wait for it. Thread-safe.
 */
final class ReplyStalls implements AutoCloseable {
    /** How long a reply may wait for its client unless the server is told otherwise. */
    static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);

    private static final Logger LOG = LoggerFactory.getLogger(ReplyStalls.class);

    private final Duration timeout;
    private final ScheduledThreadPoolExecutor timer;

    ReplyStalls(Duration timeout) {
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("NBD reply stall timeout must be positive, got " + timeout);
        }
        this.timeout = timeout;
        this.timer = new ScheduledThreadPoolExecutor(
                1, Thread.ofPlatform().daemon().name("nbd-reply-stalls").factory());
        timer.setRemoveOnCancelPolicy(true);
    }

    /** Watches one reply being written on {@code channel}; closing the watch means it was written. */
    Watch watch(NbdChannel channel) {
        ScheduledFuture<?> alarm = timer.schedule(() -> stalled(channel), timeout.toNanos(), TimeUnit.NANOSECONDS);
        return () -> alarm.cancel(false);
    }

    private void stalled(NbdChannel channel) {
        LOG.warn("NBD client {} has not read a reply for {} s; disconnecting it", peer(channel), timeout.toSeconds());
        try {
            channel.close();
        } catch (IOException e) {
            LOG.debug("closing a stalled connection: {}", e.toString());
        }
    }

    private static String peer(NbdChannel channel) {
        try {
            return String.valueOf(channel.socket().getRemoteAddress());
        } catch (IOException e) {
            return "(unknown peer)";
        }
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }

    /** One reply being written. */
    interface Watch extends AutoCloseable {
        @Override
        void close();
    }
}
