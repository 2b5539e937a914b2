package io.siphon.block.filter;

import io.siphon.block.BlockDevice;
import io.siphon.block.Extent;
import io.siphon.block.RangeLocks;
import io.siphon.block.RequestFlag;
import io.siphon.util.Alignment;
import io.siphon.util.Checked;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * The front node of a disk in use: the one place where a request's range is checked against the
 * device (a range outside it is an {@link IllegalArgumentException} naming it, and never reaches
 * {@code next}), and where every request holds a range lock while it runs below, as nbdkit's
 * {@code backend.c} and QEMU's tracked requests do. Nodes below the gate trust its ranges.
 * Thread-safe.
 *
 * <p>Plain reads and block status hold shared locks. Requests that write hold exclusive locks
 * rounded out to whole clusters of the top ({@code granularityBytes}): writes, write-zeroes,
 * discards, and copying reads (flagged {@link RequestFlag#COPY_ON_READ}, or every read while the
 * disk copies on read, as QEMU's {@code bs->copy_on_read}), which a copy-on-read filter below
 * turns into copies of whole clusters. So a copy reads the top's allocation and the backing data
 * and writes it back while no write can touch those clusters, and a write that arrives later lands
 * after the copy. It is a filter like the others, so views of the chain (NBD's base:allocation)
 * find the chain below it.
 *
 * <p>The gate also counts the guest's requests ({@link #guestIo()}: in flight, completed, latency),
 * which guest-aware pacing watches, and tells an optional {@link GuestReadListener} of guest reads
 * (an access profile's recorder). Requests flagged {@link RequestFlag#BACKGROUND} are a job's and
 * are not counted. A server in front of the gate may take the counting over ({@link
 * #guestIoTimedOutside}), since it sees a request earlier.
 */
public final class RequestGate extends FilterBlockDevice {
    private final RangeLocks locks = new RangeLocks();
    private final long granularityBytes;
    private final GuestIoStats guestIo = new GuestIoStats();
    private volatile boolean copyEveryRead;
    private volatile boolean guestTimedOutside;
    private volatile GuestReadListener readListener;

    /**
     * A gate over {@code next} that rounds exclusive locks to {@code granularityBytes} (a power of
     * two, the top's cluster size) and, when {@code copyEveryRead}, flags every read as copying.
     */
    public RequestGate(BlockDevice next, long granularityBytes, boolean copyEveryRead) {
        super(next);
        if (!Alignment.isPowerOfTwo(granularityBytes)) {
            throw new IllegalArgumentException("lock granularity " + granularityBytes + " is not a power of two");
        }
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

    /** The guest's requests as this gate has seen them. */
    public GuestIoStats guestIo() {
        return guestIo;
    }

    /**
     * Hands the counting of guest requests to the caller, who serves them from further out: an NBD
     * server times each from its arrival to its reply written, so what a pull adds in the server's
     * queue, in its reply writes or by taking a CPU shows in the latency, which the gate alone
     * cannot see. From now on the gate counts none itself; the caller counts every guest request
     * into the returned {@link #guestIo()}.
     */
    public GuestIoStats guestIoTimedOutside() {
        guestTimedOutside = true;
        return guestIo;
    }

    /** Sets who is told of guest reads from now on, or nobody ({@code null}). */
    public void setReadListener(GuestReadListener listener) {
        this.readListener = listener;
    }

    /** How many requests wait for a range lock now (for tests and diagnostics). */
    public int waitingCount() {
        return locks.waitingCount();
    }

    @Override
    public void read(long offsetBytes, ByteBuffer dst, Set<RequestFlag> flags) throws IOException {
        requireWithin(offsetBytes, dst.remaining());
        if (dst.remaining() == 0) {
            return;
        }
        boolean guest = !flags.contains(RequestFlag.BACKGROUND);
        GuestReadListener listener = readListener;
        if (guest && listener != null) {
            listener.guestRead(offsetBytes, dst.remaining());
        }
        boolean timed = guest && !guestTimedOutside;
        long startNanos = timed ? guestStarted() : 0;
        int lengthBytes = dst.remaining();
        try {
            gatedRead(offsetBytes, dst, flags);
        } finally {
            if (timed) {
                guestCompleted(GuestIoStats.Kind.READ, lengthBytes, startNanos);
            }
        }
    }

    private void gatedRead(long offsetBytes, ByteBuffer dst, Set<RequestFlag> flags) throws IOException {
        boolean copying = !next.isReadOnly() && (copyEveryRead || flags.contains(RequestFlag.COPY_ON_READ));
        if (copying) {
            try (var held = lockClusters(offsetBytes, dst.remaining())) {
                next.read(offsetBytes, dst, withCopy(flags));
            }
        } else {
            try (var held = locks.shared(offsetBytes, dst.remaining())) {
                next.read(offsetBytes, dst, flags);
            }
        }
    }

    @Override
    public void write(long offsetBytes, ByteBuffer src, Set<RequestFlag> flags) throws IOException {
        requireWithin(offsetBytes, src.remaining());
        boolean timed = !guestTimedOutside;
        long startNanos = timed ? guestStarted() : 0;
        int lengthBytes = src.remaining();
        try (var held = lockClusters(offsetBytes, lengthBytes)) {
            next.write(offsetBytes, src, flags);
        } finally {
            if (timed) {
                guestCompleted(GuestIoStats.Kind.WRITE, lengthBytes, startNanos);
            }
        }
    }

    @Override
    public void writeZeroes(long offsetBytes, long lengthBytes, Set<RequestFlag> flags) throws IOException {
        requireWithin(offsetBytes, lengthBytes);
        boolean timed = !guestTimedOutside;
        long startNanos = timed ? guestStarted() : 0;
        try (var held = lockClusters(offsetBytes, lengthBytes)) {
            next.writeZeroes(offsetBytes, lengthBytes, flags);
        } finally {
            if (timed) {
                guestCompleted(GuestIoStats.Kind.WRITE, lengthBytes, startNanos);
            }
        }
    }

    @Override
    public void discard(long offsetBytes, long lengthBytes) throws IOException {
        requireWithin(offsetBytes, lengthBytes);
        boolean timed = !guestTimedOutside;
        long startNanos = timed ? guestStarted() : 0;
        try (var held = lockClusters(offsetBytes, lengthBytes)) {
            next.discard(offsetBytes, lengthBytes);
        } finally {
            if (timed) {
                guestCompleted(GuestIoStats.Kind.OTHER, lengthBytes, startNanos);
            }
        }
    }

    @Override
    public void flush() throws IOException {
        // flushes are counted here even when a server times the rest: the pacer does not watch them
        long startNanos = System.nanoTime();
        try {
            next.flush();
        } finally {
            guestIo.flushed(System.nanoTime() - startNanos);
        }
    }

    @Override
    public List<Extent> blockStatus(long offsetBytes, long lengthBytes) throws IOException {
        requireWithin(offsetBytes, lengthBytes);
        try (var held = locks.shared(offsetBytes, lengthBytes)) {
            return next.blockStatus(offsetBytes, lengthBytes);
        }
    }

    private long guestStarted() {
        guestIo.started();
        return System.nanoTime();
    }

    private void guestCompleted(GuestIoStats.Kind kind, long lengthBytes, long startNanos) {
        guestIo.completed(kind, lengthBytes, System.nanoTime() - startNanos);
    }

    private void requireWithin(long offsetBytes, long lengthBytes) {
        Checked.requireWithin(offsetBytes, lengthBytes, next.sizeBytes());
    }

    /** Exclusive, rounded out to whole clusters: a copy works on whole clusters of the top. */
    private RangeLocks.Held lockClusters(long offsetBytes, long lengthBytes) throws IOException {
        long start = Alignment.alignDown(offsetBytes, granularityBytes);
        long end = Math.min(Alignment.alignUp(offsetBytes + lengthBytes, granularityBytes), sizeBytes());
        return locks.exclusive(start, Math.max(0, end - start));
    }

    private static Set<RequestFlag> withCopy(Set<RequestFlag> flags) {
        if (flags.contains(RequestFlag.COPY_ON_READ)) {
            return flags;
        }
        EnumSet<RequestFlag> copying = EnumSet.of(RequestFlag.COPY_ON_READ);
        copying.addAll(flags);
        return copying;
    }
}
