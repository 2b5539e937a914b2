package io.siphon.block.filter;

import io.siphon.block.BlockDevice;
import io.siphon.block.Extent;
import io.siphon.block.FullReads;
import io.siphon.block.RequestFlag;
import io.siphon.util.Alignment;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Set;
import java.util.concurrent.atomic.LongAdder;

/**
 * Turns a read flagged {@link RequestFlag#COPY_ON_READ} into a copy: the whole clusters it touches
 * that the top lacks are read through the top (from its backing chain) and written into it (a range
 * that reads as zeroes becomes a zero range, so it still does not fall through), and the caller gets
 * the data. A copy must not race a write to its clusters: it runs below a {@link
 * RequestGate}, which holds an exclusive lock on them. Thread-safe.
 */
public final class CopyOnReadFilter extends FilterBlockDevice {
    private final long clusterBytes;
    private final LongAdder copiedBytes = new LongAdder();

    /** A filter over {@code top} that copies whole clusters of {@code clusterBytes} (a power of two). */
    public CopyOnReadFilter(BlockDevice top, long clusterBytes) {
        super(top);
        if (!Alignment.isPowerOfTwo(clusterBytes)) {
            throw new IllegalArgumentException("cluster size " + clusterBytes + " is not a power of two");
        }
        this.clusterBytes = clusterBytes;
    }

    /** Bytes written into the top by copies since this filter was made. */
    public long copiedBytes() {
        return copiedBytes.sum();
    }

    @Override
    public void read(long offsetBytes, ByteBuffer dst, Set<RequestFlag> flags) throws IOException {
        if (!flags.contains(RequestFlag.COPY_ON_READ) || next.isReadOnly()) {
            next.read(offsetBytes, dst, flags);
            return;
        }
        long wantedEnd = offsetBytes + dst.remaining();
        long end = Math.min(Alignment.alignUp(wantedEnd, clusterBytes), sizeBytes());
        for (long position = Alignment.alignDown(offsetBytes, clusterBytes); position < end; ) {
            for (Extent extent : next.blockStatus(position, end - position)) {
                long extentEnd = Math.min(extent.endBytes(), end);
                long from = Math.max(position, offsetBytes);
                long to = Math.min(extentEnd, wantedEnd);
                if (!extent.allocation().isAllocated()) {
                    copy(position, extentEnd, dst, offsetBytes);
                } else if (from < to) {
                    next.read(from, part(dst, offsetBytes, from, to));
                }
                position = extentEnd;
            }
        }
        dst.position(dst.limit());
    }

    /** Reads {@code [from, to)} through the top, writes it into the top and fills its part of {@code dst}. */
    private void copy(long from, long to, ByteBuffer dst, long dstOffsetBytes) throws IOException {
        long dstEnd = dstOffsetBytes + dst.remaining();
        // The pull's copies are exactly what it asked for: read straight into the caller's buffer.
        boolean inside = from >= dstOffsetBytes && to <= dstEnd;
        ByteBuffer data = inside ? part(dst, dstOffsetBytes, from, to) : ByteBuffer.allocate((int) (to - from));
        FullReads.read(next, from, data); // a short read would have stale bytes copied into the top
        if (isAllZero(data)) {
            next.writeZeroes(from, to - from, Set.of());
        } else {
            next.write(from, data.duplicate());
        }
        copiedBytes.add(to - from);
        long overlapStart = Math.max(from, dstOffsetBytes);
        long overlapEnd = Math.min(to, dstEnd);
        if (!inside && overlapStart < overlapEnd) {
            part(dst, dstOffsetBytes, overlapStart, overlapEnd)
                    .put(data.slice((int) (overlapStart - from), (int) (overlapEnd - overlapStart)));
        }
    }

    private static boolean isAllZero(ByteBuffer data) {
        ByteBuffer view = data.duplicate();
        while (view.remaining() >= Long.BYTES) {
            if (view.getLong() != 0) {
                return false;
            }
        }
        while (view.hasRemaining()) {
            if (view.get() != 0) {
                return false;
            }
        }
        return true;
    }

    /** The part of {@code dst} (which holds the bytes from {@code dstOffsetBytes}) for {@code [from, to)}. */
    private static ByteBuffer part(ByteBuffer dst, long dstOffsetBytes, long from, long to) {
        return dst.slice(dst.position() + (int) (from - dstOffsetBytes), (int) (to - from));
    }
}
