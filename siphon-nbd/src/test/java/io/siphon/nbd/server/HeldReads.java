package io.siphon.nbd.server;

import io.siphon.block.BlockDevice;
import io.siphon.block.RequestFlag;
import io.siphon.block.filter.FilterBlockDevice;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.LongPredicate;

/** Holds the reads at the offsets {@code held} picks until released: slow requests, made to order. */
final class HeldReads extends FilterBlockDevice {
    private final CountDownLatch release = new CountDownLatch(1);
    private final LongPredicate held;

    HeldReads(BlockDevice next, LongPredicate held) {
        super(next);
        this.held = held;
    }

    /** Lets the held reads and every later one through. */
    void release() {
        release.countDown();
    }

    @Override
    public void read(long offsetBytes, ByteBuffer dst, Set<RequestFlag> flags) throws IOException {
        if (held.test(offsetBytes)) {
            try {
                if (!release.await(30, TimeUnit.SECONDS)) {
                    throw new IOException("held reads never released");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException(e);
            }
        }
        next.read(offsetBytes, dst, flags);
    }
}
