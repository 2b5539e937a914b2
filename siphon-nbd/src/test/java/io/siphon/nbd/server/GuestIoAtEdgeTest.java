package io.siphon.nbd.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.block.filter.GuestIoStats;
import io.siphon.block.filter.RequestGate;
import io.siphon.format.ImageChain;
import io.siphon.nbd.protocol.CommandType;
import io.siphon.nbd.protocol.NbdMagic;
import io.siphon.nbd.testing.RandomDisk;
import io.siphon.nbd.testing.RawPeer;
import io.siphon.testing.GuestIoWaits;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The guest's requests are counted where they enter the server, from arrival to reply written, into
 * the export's {@link GuestIoStats}, and the disk's gate behind it counts none of them again.
 */
class GuestIoAtEdgeTest {
    private static final int READS = 4;

    @TempDir
    Path dir;

    @Test
    void dataRequestsAreTimedFromArrivalToReplyOnceAndAFlushIsNot() throws Exception {
        try (ImageChain chain = RandomDisk.open(dir.resolve("disk.raw"), RandomDisk.content(7, 1 << 20))) {
            HeldReads held = new HeldReads(chain.top(), offset -> true);
            RequestGate gate = new RequestGate(held, 65536, false);
            GuestIoStats stats = gate.guestIoTimedOutside();
            Path socket = dir.resolve("nbd.sock");
            try (NbdServer server =
                    NbdServer.builder().listenUnix(socket).build().start()) {
                server.addExport("disk", "", gate, false, stats);
                try (RawPeer peer = RawPeer.transmission(socket, "disk", false)) {
                    for (int i = 0; i < READS; i++) {
                        peer.request(0, CommandType.READ.code(), i, i * 4096L, 4096);
                    }
                    awaitInFlight(stats, READS);
                    long heldSince = System.nanoTime();
                    assertEquals(READS, stats.startedCount(), "the gate counts none of them again");
                    Thread.sleep(20); // the device holds them this long at least: part of their latency
                    long heldNanos = System.nanoTime() - heldSince;
                    held.release();
                    for (int i = 0; i < READS; i++) {
                        ByteBuffer reply = peer.readExactly(16);
                        assertEquals(NbdMagic.SIMPLE_REPLY, reply.getInt());
                        assertEquals(0, reply.getInt(), "no error");
                        peer.readExactly(4096);
                    }
                    peer.request(0, CommandType.FLUSH.code(), 99, 0, 0);
                    ByteBuffer flushed = peer.readExactly(16);
                    assertEquals(NbdMagic.SIMPLE_REPLY, flushed.getInt());
                    assertEquals(0, flushed.getInt());

                    GuestIoStats.Snapshot snapshot = GuestIoWaits.awaitCompleted(stats, READS);
                    assertEquals(READS, snapshot.started(), "the flush is not the guest's data I/O");
                    GuestIoStats.Snapshot none = new GuestIoStats().snapshot();
                    long fastest = snapshot.latencyQuantileNanosSince(none, 1.0 / READS);
                    assertTrue(
                            fastest >= heldNanos,
                            "every read was timed while the device held it: " + fastest + " ns, held at least "
                                    + heldNanos + " ns");
                }
            }
        }
    }

    private static void awaitInFlight(GuestIoStats stats, long count) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (stats.inFlight() < count) {
            assertTrue(System.nanoTime() < deadline, "requests in flight at the edge: " + stats.inFlight());
            Thread.sleep(1);
        }
    }
}
