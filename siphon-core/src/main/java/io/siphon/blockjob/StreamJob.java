package io.siphon.blockjob;

import io.siphon.block.Allocation;
import io.siphon.block.Extent;
import io.siphon.block.RequestFlag;
import io.siphon.format.BackingNames;
import io.siphon.format.BackingReference;
import io.siphon.format.Image;
import io.siphon.format.remote.RemoteObjectException;
import io.siphon.job.Job;
import io.siphon.job.JobCancelledException;
import io.siphon.job.JobContext;
import io.siphon.job.JobDriver;
import io.siphon.util.Alignment;
import io.siphon.util.NoSpace;
import io.siphon.util.TimeSource;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The block pull (image streaming): copies into a disk's top image every range that an image above
 * the base holds and the top does not, then rewrites the top's backing link (removed, or naming
 * the base) and drops the images it no longer needs. Restarting a pull after a crash simply
 * continues from what the top holds. Driven by a {@link Job}; see {@link #create}.
 *
 * <p>Two strategies plug in: a {@link PrefetchPlan} names ranges copied before the offset walk (an
 * access profile's hot clusters), and {@link CopyPacing} decides when the next chunk may go (the
 * speed limit, or {@link GuestPacer} under {@link StreamOptions.Pace#GUEST}).
 */
public final class StreamJob implements JobDriver {
    public static final String TYPE = "stream";

    private static final Logger LOG = LoggerFactory.getLogger(StreamJob.class);
    /** How much block status one query asks for: long enough to skip a sparse template quickly. */
    private static final long STATUS_WINDOW_BYTES = 1L << 30;

    private static final Set<RequestFlag> COPY = Set.of(RequestFlag.COPY_ON_READ, RequestFlag.BACKGROUND);

    private final Disk disk;
    private final StreamOptions options;
    private final Image top;
    /** The images strictly between the top and the base: what the pull copies from. */
    private final List<Image> intermediates;

    private final Optional<Image> base;
    private final int baseIndex;
    private final long sizeBytes;
    private final long chunkBytes;
    private final long granularityBytes;
    private final CopyPacing pacing;
    private final PrefetchPlan prefetch;
    private final ByteBuffer buffer;
    private Job job;
    private long cursorBytes;
    private List<Extent> topExtents = List.of();
    private int topIndex;
    private long aboveStart = -1;
    private long aboveEnd = -1;
    private boolean aboveAllocated;
    private IOException firstIgnoredError;
    /** What the prefetch copied: the offset walk passes over it again, so the work grows by it. */
    private long prefetchedBytes;

    private StreamJob(Disk disk, StreamOptions options, PrefetchPlan prefetch, TimeSource time) throws IOException {
        this.disk = disk;
        this.options = options;
        List<Image> images = disk.images();
        this.top = images.getFirst();
        this.baseIndex = baseIndex(images, options.base());
        this.base = baseIndex < images.size() ? Optional.of(images.get(baseIndex)) : Optional.empty();
        this.intermediates = List.copyOf(images.subList(1, baseIndex));
        this.sizeBytes = top.sizeBytes();
        this.granularityBytes = disk.device().granularityBytes();
        this.chunkBytes = Alignment.alignUp(Math.max(options.chunkBytes(), granularityBytes), granularityBytes);
        this.pacing = pacing(disk, options, time);
        this.prefetch = prefetch;
        this.buffer = ByteBuffer.allocateDirect(Math.toIntExact(chunkBytes));
    }

    /**
     * A pull of {@code disk} as a job in status CREATED, holding the disk's job slot: add listeners,
     * then start it or step it. Fails when the disk already has a job or the base is not in the
     * chain below the top.
     */
    public static Job create(Disk disk, StreamOptions options, TimeSource time) throws IOException {
        return create(disk, options, PrefetchPlan.none(), time);
    }

    /** {@link #create} with ranges to copy before the offset walk. */
    public static Job create(Disk disk, StreamOptions options, PrefetchPlan prefetch, TimeSource time)
            throws IOException {
        if (disk.top().isReadOnly()) {
            throw new IllegalArgumentException("disk '" + disk.name() + "': the top image "
                    + disk.top().path() + " is read-only; a pull writes into it");
        }
        StreamJob driver = new StreamJob(disk, options, prefetch, time);
        Job job = new Job(disk.name(), disk.name(), driver, time);
        disk.claim(job);
        driver.job = job;
        return job;
    }

    /** {@link #create} with the system clock. */
    public static Job create(Disk disk, StreamOptions options) throws IOException {
        return create(disk, options, TimeSource.SYSTEM);
    }

    private static CopyPacing pacing(Disk disk, StreamOptions options, TimeSource time) {
        StreamOptions.Pace pace = options.pace();
        return pace.yieldsToGuest()
                ? new GuestPacer(disk.device().guestIo(), time, options.bytesPerSecond(), pace.guestLatencyFactor())
                : CopyPacing.atLimit(time, options.bytesPerSecond());
    }

    private static int baseIndex(List<Image> images, Optional<Path> base) throws IOException {
        if (base.isEmpty()) {
            return images.size();
        }
        for (int i = 1; i < images.size(); i++) {
            Path image = images.get(i).path();
            // a remote image's path is its name, no file: it is the base only by that name
            if (image.equals(base.get())
                    || (Files.exists(image) && Files.exists(base.get()) && Files.isSameFile(image, base.get()))) {
                return i;
            }
        }
        throw new IllegalArgumentException("base " + base.get() + " is not below the top in the chain of "
                + images.getFirst().path());
    }

    @Override
    public String type() {
        return TYPE;
    }

    @Override
    public void run(JobContext context) throws Exception {
        context.setEnd(sizeBytes + prefetchedBytes);
        while (cursorBytes < sizeBytes) {
            context.pausePoint();
            copyNext(context);
            long delay;
            while ((delay = pacing.delayNanos()) > 0) {
                context.sleep(delay);
            }
        }
    }

    @Override
    public boolean step(JobContext context) throws Exception {
        context.setEnd(sizeBytes + prefetchedBytes);
        long copied = 0;
        while (cursorBytes < sizeBytes && copied < options.stepBytes()) {
            context.pausePoint();
            copied += copyNext(context);
        }
        return cursorBytes >= sizeBytes;
    }

    /**
     * Examines the range at the cursor and copies it if needed; returns the bytes copied. An error,
     * whether from a block status query or from the copy, is handled by the on-error policy.
     */
    private long copyNext(JobContext context) throws IOException, JobCancelledException {
        if (prefetch.hasNext()) {
            return prefetchNext(context);
        }
        long offset = cursorBytes;
        try {
            return examineAndCopy(context, offset);
        } catch (IOException e) {
            if (options.onOutage().pause() && RemoteObjectException.isOutage(e)) {
                // the retries inside the read already waited out the remote's timeout
                context.pauseUntil(e, options.onOutage().probeInterval().toNanos(), () -> answers(offset));
                return 0; // resumed: the cursor did not move, so the range is tried again
            }
            switch (options.onError()) {
                case REPORT -> throw e;
                case STOP -> {
                    context.reportError(e, true);
                    return 0; // resumed: the cursor did not move, so the range is tried again
                }
                case ENOSPC -> {
                    if (!NoSpace.is(e)) {
                        throw e;
                    }
                    context.reportError(e, true);
                    return 0;
                }
                case IGNORE -> {
                    context.reportError(e, false);
                    if (firstIgnoredError == null) {
                        firstIgnoredError = e;
                    }
                    // leave at most one chunk behind; the job fails at the end and keeps the link
                    return skip(context, Math.min(chunkBytes, sizeBytes - offset));
                }
                default -> throw new AssertionError(options.onError());
            }
        }
    }

    /** Whether the chain reads at {@code offset} again: one byte through the top, which warms the cache. */
    private boolean answers(long offset) {
        try {
            top.read(offset, ByteBuffer.allocate(1));
            return true;
        } catch (IOException e) {
            LOG.debug("disk '{}': remote still unreachable at offset {}: {}", disk.name(), offset, e.toString());
            return false;
        }
    }

    private long examineAndCopy(JobContext context, long offset) throws IOException {
        Extent held = topExtentAt(offset);
        long length = held.endBytes() - offset;
        if (held.allocation().isAllocated()) {
            return skip(context, length);
        }
        length = Math.min(length, aboveExtentAt(offset, length));
        if (!aboveAllocated) {
            return skip(context, length);
        }
        length = Math.min(length, nextChunkBytes());
        // The top lacked the range when its status was read; what a guest wrote since, the copy
        // leaves alone, and the job counts the range as copied all the same (as QEMU's stream does).
        disk.device().read(offset, buffer.clear().limit(Math.toIntExact(length)), COPY);
        cursorBytes = offset + length;
        context.advance(length, length);
        pacing.charge(length);
        return length;
    }

    /**
     * Copies the prefetch plan's next range unless the top holds it or nothing above the base does.
     * A failure leaves the range to the offset walk, which meets it again under the on-error policy.
     */
    private long prefetchNext(JobContext context) {
        long offset = prefetch.next();
        if (offset < 0 || offset >= sizeBytes) {
            return 0;
        }
        long length = Math.min(Math.min(prefetch.unitBytes(), nextChunkBytes()), sizeBytes - offset);
        try {
            Extent held = top.blockStatus(offset, length).getFirst();
            if (held.allocation().isAllocated() && held.endBytes() >= offset + length) {
                return 0;
            }
            long[] above = allocatedAbove(offset, length);
            if (above[0] == 0 && above[1] >= length) {
                return 0;
            }
            disk.device().read(offset, buffer.clear().limit(Math.toIntExact(length)), COPY);
        } catch (IOException e) {
            LOG.debug(
                    "disk '{}': prefetch of {} bytes at {} failed, left to the offset walk",
                    disk.name(),
                    length,
                    offset,
                    e);
            return 0;
        }
        prefetchedBytes += length;
        context.setEnd(sizeBytes + prefetchedBytes);
        context.advance(length, length);
        pacing.charge(length);
        return length;
    }

    /** The chunk size for the next copy: the pacing's, in whole clusters, at most the job's own. */
    private long nextChunkBytes() {
        long paced = Math.max(granularityBytes, pacing.chunkBytes(chunkBytes));
        return Math.min(chunkBytes, Alignment.alignUp(paced, granularityBytes));
    }

    private long skip(JobContext context, long length) {
        cursorBytes += length;
        context.advance(length, 0);
        return 0;
    }

    /**
     * The top's extent that holds {@code offset}, from the status last read for a whole window: the
     * top changes only by guest writes (which the copy re-checks under its lock) and discards (whose
     * ranges are unspecified), so a slightly old answer is safe and saves a query per chunk.
     */
    private Extent topExtentAt(long offset) throws IOException {
        while (topIndex < topExtents.size() && topExtents.get(topIndex).endBytes() <= offset) {
            topIndex++;
        }
        if (topIndex >= topExtents.size() || topExtents.get(topIndex).offsetBytes() > offset) {
            topExtents = top.blockStatus(offset, Math.min(STATUS_WINDOW_BYTES, sizeBytes - offset));
            topIndex = 0;
        }
        return topExtents.get(topIndex);
    }

    /**
     * Sets {@link #aboveAllocated} for {@code offset} and returns how far from it that answer holds
     * (at most {@code length}). Images above the base are read-only while the job
     * runs, so one answer is cached until the cursor leaves it.
     */
    private long aboveExtentAt(long offset, long length) throws IOException {
        if (offset < aboveStart || offset >= aboveEnd) {
            long[] answer = allocatedAbove(offset, Math.min(STATUS_WINDOW_BYTES, sizeBytes - offset));
            aboveStart = offset;
            aboveEnd = offset + answer[1];
            aboveAllocated = answer[0] != 0;
        }
        return Math.min(length, aboveEnd - offset);
    }

    /**
     * Whether an image above the base holds the first bytes of the range (as {1, n}) or none does
     * (as {0, n}), for the first n bytes, as QEMU's bdrv_is_allocated_above.
     */
    private long[] allocatedAbove(long offset, long length) throws IOException {
        long n = length;
        for (Image image : intermediates) {
            if (offset >= image.sizeBytes()) {
                // Past a shorter image the disk reads zeroes; with a base below, the base's data
                // would show through once the link changes, so the zeroes must be copied.
                return new long[] {base.isPresent() ? 1 : 0, n};
            }
            long within = Math.min(n, image.sizeBytes() - offset);
            Extent extent = image.blockStatus(offset, within).getFirst();
            long extentLength = Math.min(extent.endBytes(), offset + within) - offset;
            if (extent.allocation().isAllocated()) {
                // Zeroes must be copied only where a base stays below to show through; after a full
                // pull the top has no backing and reads zeroes there by itself (a hole in a raw
                // template costs nothing).
                boolean copy = extent.allocation() == Allocation.DATA || base.isPresent();
                return new long[] {copy ? 1 : 0, extentLength};
            }
            n = extentLength;
        }
        return new long[] {0, n};
    }

    @Override
    public void setSpeed(long bytesPerSecond) {
        pacing.setLimit(bytesPerSecond);
    }

    @Override
    public long speed() {
        return pacing.limit();
    }

    /** Makes the copied data durable, then changes the top's link in one durable header write. */
    @Override
    public void prepare() throws IOException {
        if (firstIgnoredError != null) {
            throw new IOException(
                    "ranges were not copied (on-error ignore): " + firstIgnoredError.getMessage(), firstIgnoredError);
        }
        top.flush();
        Optional<BackingReference> link = base.map(image -> BackingReference.of(baseName(image), image.formatName()));
        top.changeBackingReference(link);
    }

    /** The name the top records for the base: a remote base keeps the name its chain gave it. */
    private String baseName(Image image) {
        String named = disk.images()
                .get(baseIndex - 1)
                .backingReference()
                .orElseThrow()
                .name();
        return BackingNames.isRemote(named)
                ? named
                : BackingNames.nameFor(top.path(), image.path(), options.keepRelative());
    }

    /** Drops the images the top no longer reads from: closed, their locks released, the listener told. */
    @Override
    public void commit() {
        try {
            disk.dropImages(1, baseIndex);
        } catch (IOException e) {
            LOG.error("disk '{}': closing the images the pull made unnecessary failed", disk.name(), e);
        }
    }

    @Override
    public void clean() {
        disk.release(job);
    }
}
