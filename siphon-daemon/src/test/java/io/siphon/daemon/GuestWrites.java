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
 * A guest writing 4 KiB blocks at random places of a region at the start of a disk over NBD, each flushed before the next,
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

    /** A guest writing into the first {@code regionBytes} of its disk. */
    GuestWrites(long regionBytes, Random random) {
        this.blocks = Math.toIntExact(regionBytes / BLOCK);
        this.random = random;
    }

    /** A guest that writes to {@code nbdUri} until {@link Guest#stop} or until the connection drops. */
    Guest start(String nbdUri) {
        return start(nbdUri, Long.MAX_VALUE);
    }

    /**
     * A guest that reads and then writes a block at a time, {@code writes} times, to {@code nbdUri},
     * ending earlier at {@link Guest#stop} or when the connection drops.
     */
    Guest start(String nbdUri, long writes) {
        AtomicBoolean stop = new AtomicBoolean();
        Thread thread = Thread.ofVirtual().start(() -> {
            try (NbdClient client = NbdClient.connect(nbdUri)) {
                for (long w = 0; w < writes && !stop.get(); w++) {
                    long offset;
                    byte[] data = new byte[BLOCK];
                    synchronized (this) {
                        offset = (long) random.nextInt(blocks) * BLOCK;
                        random.nextBytes(data);
                        triedSince
                                .computeIfAbsent(offset, o -> new ArrayList<>())
                                .add(data);
                    }
                    if (writes != Long.MAX_VALUE) {
                        client.read(offset, ByteBuffer.allocate(BLOCK)); // as a guest's read-modify-write
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
        /** Waits up to 60 s for it to end by itself. */
        void await() throws InterruptedException {
            if (!thread.join(Duration.ofSeconds(60))) {
                throw new AssertionError("the guest did not end within 60 s");
            }
        }

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
     * What the disk must hold given its final {@code content}: {@code template}'s data with each
     * block's last acknowledged write over it, or the write tried after it that {@code content}
     * shows landed.
     */
    synchronized byte[] expected(byte[] content, byte[] template) {
        byte[] expected = template.clone();
        acknowledged.forEach((offset, data) -> System.arraycopy(data, 0, expected, (int) (long) offset, BLOCK));
        triedSince.forEach((offset, tried) -> {
            byte[] got = Arrays.copyOfRange(content, (int) (long) offset, (int) (long) offset + BLOCK);
            if (tried.stream().anyMatch(t -> Arrays.equals(got, t))) {
                System.arraycopy(got, 0, expected, (int) (long) offset, BLOCK);
            }
        });
        return expected;
    }

    /**
     * The blocks of {@code content} (the disk's final bytes) that hold neither what the ledger
     * allows nor, for blocks never acknowledged, {@code template}'s data: each is a lost write.
     */
    synchronized List<Long> lost(byte[] content, byte[] template) {
        byte[] expected = expected(content, template);
        List<Long> lost = new ArrayList<>();
        for (int offset = 0; offset < expected.length; offset += BLOCK) {
            if (!Arrays.equals(expected, offset, offset + BLOCK, content, offset, offset + BLOCK)) {
                lost.add((long) offset);
            }
        }
        return lost;
    }
}
