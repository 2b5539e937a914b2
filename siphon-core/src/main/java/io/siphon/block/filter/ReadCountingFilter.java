package io.siphon.block.filter;

import io.siphon.block.BlockDevice;
import io.siphon.block.RequestFlag;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Set;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counts the bytes read through it into a {@link LongAdder} it is given, so that a count can go on
 * across the filters that replace each other (a disk puts one over its top's backing and a new
 * one when the chain changes). Thread-safe.
 */
public final class ReadCountingFilter extends FilterBlockDevice {
    private final LongAdder readBytes;

    /** A filter over {@code next} adding every byte read to {@code readBytes}. */
    public ReadCountingFilter(BlockDevice next, LongAdder readBytes) {
        super(next);
        this.readBytes = readBytes;
    }

    @Override
    public void read(long offsetBytes, ByteBuffer dst, Set<RequestFlag> flags) throws IOException {
        int length = dst.remaining();
        next.read(offsetBytes, dst, flags);
        readBytes.add(length);
    }
}
