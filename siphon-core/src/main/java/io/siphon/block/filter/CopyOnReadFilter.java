package io.siphon.block.filter;

import io.siphon.block.BlockDevice;
import io.siphon.block.Extent;
import io.siphon.block.RangeLocks;
import io.siphon.block.RequestFlag;
import io.siphon.util.Alignment;
import io.siphon.util.Checked;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Set;

/**
 * The front of a disk whose top image reads unallocated ranges from its backing chain: a read with
 * {@link RequestFlag#COPY_ON_READ} (every read, when the disk has copy-on-read enabled) also writes
 * what the top lacked into the top, in the same request. Thread-safe.
 *
 * <p>Every request takes a range lock, rounded out to the top's cluster size: plain reads shared;
 * writes, write-zeroes, discards and copying reads exclusive. A copy therefore reads the top's
 * allocation, the backing data and writes it back while no write can touch those clusters, and a
 * guest write that comes after the copy lands over it, never under it.
 */
public final class CopyOnReadFilter extends FilterBlockDevice {
    private final RangeLocks locks;
    private final long granularityBytes;
    private volatile boolean copyEveryRead;

    /**
     * A filter over {@code top} that rounds locks to {@code granularityBytes} (a power of two, the
     * top's cluster size) and copies on every read when {@code copyEveryRead}.
     */
    public CopyOnReadFilter(BlockDevice top, long granularityBytes, boolean copyEveryRead) {
        super(top);
        if (!Alignment.isPowerOfTwo(granularityBytes)) {
            throw new IllegalArgumentException("lock granularity " + granularityBytes + " is not a power of two");
        }
        this.locks = new RangeLocks();
        this.granularityBytes = granularityBytes;
        this.copyEveryRead = copyEveryRead;
    }

    /** The lock granularity in bytes: the top's cluster size. */
    public long granularityBytes() {
        return granularityBytes;
    }

    /** Whether every read copies (the disk's copy_on_read option). */
    public boolean copiesEveryRead() {
        return copyEveryRead;
    }

    /** Turns copying of every read on or off; requests already running keep their mode. */
    public void setCopyEveryRead(boolean copyEveryRead) {
        this.copyEveryRead = copyEveryRead;
    }

    /**
     * Takes an exclusive lock over the whole disk: in-flight requests finish first and new ones
     * wait until it is closed. Used to change the chain under the top while the disk is in use.
     */
    public RangeLocks.Held quiesce() throws IOException {
        return locks.exclusive(0, Math.max(1, sizeBytes()));
    }

    @Override
    public void read(long offsetBytes, ByteBuffer dst, Set<RequestFlag> flags) throws IOException {
        Checked.requireWithin(offsetBytes, dst.remaining(), sizeBytes());
        if (dst.remaining() == 0) {
            return;
        }
        if (!next.isReadOnly() && (copyEveryRead || flags.contains(RequestFlag.COPY_ON_READ))) {
            copyOnRead(offsetBytes, dst);
            return;
        }
        try (var held = lockShared(offsetBytes, dst.remaining())) {
            next.read(offsetBytes, dst, flags);
        }
    }

    /**
     * Reads {@code dst.remaining()} bytes at {@code offsetBytes}, copying what the top lacks in the
     * clusters they touch into the top; returns how many bytes were copied (0 when the top held them
     * all, e.g. because a guest wrote them first).
     */
    public long copyOnRead(long offsetBytes, ByteBuffer dst) throws IOException {
        Checked.requireWithin(offsetBytes, dst.remaining(), sizeBytes());
        if (dst.remaining() == 0) {
            return 0;
        }
        long start = Alignment.alignDown(offsetBytes, granularityBytes);
        long end = Math.min(Alignment.alignUp(offsetBytes + dst.remaining(), granularityBytes), sizeBytes());
        try (var held = locks.exclusive(start, end - start)) {
            return copyAndRead(start, end, offsetBytes, dst);
        }
    }

    /** Reads {@code dst} at {@code offsetBytes}; copies what the top lacks in {@code [start, end)}. */
    private long copyAndRead(long start, long end, long offsetBytes, ByteBuffer dst) throws IOException {
        long wantedEnd = offsetBytes + dst.remaining();
        int dstBase = dst.position();
        long position = start;
        long copied = 0;
        while (position < end) {
            List<Extent> extents = next.blockStatus(position, end - position);
            for (Extent extent : extents) {
                long extentEnd = Math.min(extent.endBytes(), end);
                if (extent.allocation().isAllocated()) {
                    readOverlap(position, extentEnd, offsetBytes, wantedEnd, dst, dstBase);
                } else {
                    copyRange(position, extentEnd, offsetBytes, wantedEnd, dst, dstBase);
                    copied += extentEnd - position;
                }
                position = extentEnd;
                if (position >= end) {
                    break;
                }
            }
        }
        dst.position(dstBase + (int) (wantedEnd - offsetBytes));
        return copied;
    }

    private void readOverlap(long from, long to, long offsetBytes, long wantedEnd, ByteBuffer dst, int dstBase)
            throws IOException {
        long overlapStart = Math.max(from, offsetBytes);
        long overlapEnd = Math.min(to, wantedEnd);
        if (overlapStart < overlapEnd) {
            next.read(overlapStart, slice(dst, dstBase, overlapStart - offsetBytes, overlapEnd - overlapStart));
        }
    }

    /** Reads {@code [from, to)} through the top (from its backing) and writes it into the top. */
    private void copyRange(long from, long to, long offsetBytes, long wantedEnd, ByteBuffer dst, int dstBase)
            throws IOException {
        ByteBuffer data;
        boolean insideDst = from >= offsetBytes && to <= wantedEnd;
        if (insideDst) {
            // The common case for the pull: the copied clusters are exactly what the caller asked for.
            data = slice(dst, dstBase, from - offsetBytes, to - from);
        } else {
            data = ByteBuffer.allocate(Checked.toInt(to - from, "copy-on-read length"));
        }
        next.read(from, data.duplicate());
        if (isAllZero(data)) {
            // Zeroes in the backing become a zero range in the top: it must still not fall through.
            next.writeZeroes(from, to - from, Set.of());
        } else {
            next.write(from, data.duplicate());
        }
        if (!insideDst) {
            long overlapStart = Math.max(from, offsetBytes);
            long overlapEnd = Math.min(to, wantedEnd);
            if (overlapStart < overlapEnd) {
                ByteBuffer part = data.duplicate();
                part.position((int) (overlapStart - from)).limit((int) (overlapEnd - from));
                slice(dst, dstBase, overlapStart - offsetBytes, overlapEnd - overlapStart)
                        .put(part);
            }
        }
    }

    private static ByteBuffer slice(ByteBuffer dst, int dstBase, long offsetInDst, long length) {
        return dst.slice(dstBase + (int) offsetInDst, (int) length);
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

    @Override
    public void write(long offsetBytes, ByteBuffer src, Set<RequestFlag> flags) throws IOException {
        try (var held = lockExclusive(offsetBytes, src.remaining())) {
            next.write(offsetBytes, src, flags);
        }
    }

    @Override
    public void writeZeroes(long offsetBytes, long lengthBytes, Set<RequestFlag> flags) throws IOException {
        try (var held = lockExclusive(offsetBytes, lengthBytes)) {
            next.writeZeroes(offsetBytes, lengthBytes, flags);
        }
    }

    @Override
    public void discard(long offsetBytes, long lengthBytes) throws IOException {
        try (var held = lockExclusive(offsetBytes, lengthBytes)) {
            next.discard(offsetBytes, lengthBytes);
        }
    }

    @Override
    public List<Extent> blockStatus(long offsetBytes, long lengthBytes) throws IOException {
        try (var held = lockShared(offsetBytes, lengthBytes)) {
            return next.blockStatus(offsetBytes, lengthBytes);
        }
    }

    private RangeLocks.Held lockShared(long offsetBytes, long lengthBytes) throws IOException {
        Checked.requireWithin(offsetBytes, lengthBytes, sizeBytes());
        return locks.shared(offsetBytes, lengthBytes);
    }

    /** Exclusive, rounded out to whole clusters: a copy works on whole clusters of the top. */
    private RangeLocks.Held lockExclusive(long offsetBytes, long lengthBytes) throws IOException {
        Checked.requireWithin(offsetBytes, lengthBytes, sizeBytes());
        long start = Alignment.alignDown(offsetBytes, granularityBytes);
        long end = Math.min(Alignment.alignUp(offsetBytes + lengthBytes, granularityBytes), sizeBytes());
        return locks.exclusive(start, Math.max(0, end - start));
    }
}
