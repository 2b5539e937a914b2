package io.siphon.daemon;

import io.siphon.nbd.client.NbdClient;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A guest writing 4 KiB blocks at random places of a disk over NBD, each flushed before the next,
 * and the ledger of what it wrote: a write is acknowledged once its flush returns. A block may be
 * written many times; one cut off by a crash may or may not have landed, so a block must end holding
 * its last acknowledged data or one of the writes tried after it (or the template's data if none
 * was acknowledged). Thread-safe.
 */
final class GuestWrites {
    static final int BLOCK = 4096;

    private final int blocks;
    private final Random random;
    private final Map<Long, byte[]> acknowledged = new HashMap<>();
    private final Map<Long, List<byte[]>> triedSince = new HashMap<>();
    private long acknowledgedCount;

    GuestWrites(long sizeBytes, Random random) {
        this.blocks = Math.toIntExact(sizeBytes / BLOCK);
        this.random = random;
    }

    /** A guest that writes to {@code nbdUri} until {@link Guest#stop} or until the connection drops. */
    Guest start(String nbdUri) {
        AtomicBoolean stop = new AtomicBoolean();
        Thread thread = Thread.ofVirtual().start(() -> {
            try (NbdClient client = NbdClient.connect(nbdUri)) {
                while (!stop.get()) {
                    long offset;
                    byte[] data = new byte[BLOCK];
                    synchronized (this) {
                        offset = (long) random.nextInt(blocks) * BLOCK;
                        random.nextBytes(data);
                        triedSince
                                .computeIfAbsent(offset, o -> new ArrayList<>())
                                .add(data);
                    }
                    client.write(offset, ByteBuffer.wrap(data), false);
                    client.flush();
                    synchronized (this) {
                        acknowledged.put(offset, data);
                        triedSince.remove(offset);
                        acknowledgedCount++;
                    }
                }
            } catch (Exception cutOff) {
                // the daemon died under the write or the flush: that write was never acknowledged
            }
        });
        return new Guest(stop, thread);
    }

    /** A running guest. */
    record Guest(AtomicBoolean stopFlag, Thread thread) {
        /** Stops it and waits (up to 30 s) for its last request to end. */
        void stop() throws InterruptedException {
            stopFlag.set(true);
            if (!thread.join(Duration.ofSeconds(30))) {
                throw new AssertionError("the guest's request did not end within 30 s");
            }
        }
    }

    /** How many writes were acknowledged, counting each rewrite. */
    synchronized long acknowledgedCount() {
        return acknowledgedCount;
    }

    /**
     * The blocks of {@code content} (the disk's final bytes) that hold neither what the ledger
     * allows nor, for blocks never acknowledged, {@code template}'s data: each is a lost write.
     */
    synchronized List<Long> lost(byte[] content, byte[] template) {
        List<Long> lost = new ArrayList<>();
        for (long offset = 0; offset < (long) blocks * BLOCK; offset += BLOCK) {
            byte[] got = Arrays.copyOfRange(content, (int) offset, (int) offset + BLOCK);
            byte[] last =
                    acknowledged.getOrDefault(offset, Arrays.copyOfRange(template, (int) offset, (int) offset + BLOCK));
            boolean allowed = Arrays.equals(got, last)
                    || triedSince.getOrDefault(offset, List.of()).stream().anyMatch(t -> Arrays.equals(got, t));
            if (!allowed) {
                lost.add(offset);
            }
        }
        return lost;
    }
}
