package io.siphon.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.block.filter.GuestIoStats;
import io.siphon.testing.GuestIoWaits;
import io.siphon.testing.QemuTools;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A running disk's guest I/O, which a guest-paced pull watches, is counted at its NBD export. */
class GuestIoAtExportTest {
    private static final int READS = 3;

    @TempDir
    Path dir;

    @Test
    void theExportCountsTheGuestsReadsIntoItsDiskOnce() throws Exception {
        DomainManager manager = DomainManager.open(dir.resolve("state"));
        try {
            manager.define(TestDomains.rawDomainXml(dir, "d"));
            manager.start("d");
            String uri = manager.disks("d").getFirst().nbdUri().orElseThrow();
            GuestIoStats stats =
                    manager.runningDisk("d", "vda").orElseThrow().device().guestIo();
            long before = stats.snapshot().completed();
            QemuTools.ok("qemu-io", "-f", "raw", "-c", "read 0 4096", "-c", "read 0 4096", "-c", "read 0 4096", uri);
            GuestIoStats.Snapshot after = GuestIoWaits.awaitCompleted(stats, before + READS);
            long counted = after.completed() - before;
            // counted by the server and not again by the disk's gate (which would make it 2 × READS)
            assertTrue(counted >= READS && counted < 2 * READS, "reads counted: " + counted);
            assertEquals(after.started(), after.completed(), "nothing in flight once the client has left");
        } finally {
            manager.close();
        }
    }
}
