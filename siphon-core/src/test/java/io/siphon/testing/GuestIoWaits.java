package io.siphon.testing;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.block.filter.GuestIoStats;
import java.util.concurrent.TimeUnit;

/**
 * Waits on a disk's {@link GuestIoStats}: a server counts a request done after writing its reply,
 * which the client may read first, so a test waits for the count instead of reading it at once.
 */
public final class GuestIoWaits {
    private GuestIoWaits() {}

    /** The stats once {@code count} requests have completed and none is in flight; fails after 30 s. */
    public static GuestIoStats.Snapshot awaitCompleted(GuestIoStats stats, long count) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            GuestIoStats.Snapshot snapshot = stats.snapshot();
            if (snapshot.completed() >= count && snapshot.inFlight() == 0) {
                return snapshot;
            }
            assertTrue(
                    System.nanoTime() < deadline,
                    "requests completed: " + snapshot.completed() + " of " + count + ", in flight "
                            + snapshot.inFlight());
            Thread.sleep(1);
        }
    }
}
