package io.siphon.blockjob;

import io.siphon.block.BlockDevice;
import io.siphon.block.filter.CopyOnReadFilter;
import io.siphon.block.filter.ReadCountingFilter;
import io.siphon.block.filter.RequestGate;
import io.siphon.format.Image;
import io.siphon.format.ImageChain;
import io.siphon.format.OpenOptions;
import io.siphon.format.RemoteBackingPolicy;
import io.siphon.job.Job;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.UnaryOperator;

/**
 * A chain in use as one disk: its name (the device, e.g. "vda"), the chain, the front device all I/O
 * goes through (a {@link RequestGate} over a {@link CopyOnReadFilter} over the top: ranges checked
 * once, guest writes and copies excluding each other), and its one job slot. Closing the disk
 * closes the chain. Thread-safe.
 */
public final class Disk implements AutoCloseable {
    private static final long DEFAULT_CLUSTER_BYTES = 64 * 1024;

    private final String name;
    private final ImageChain chain;
    private final RequestGate front;
    private final CopyOnReadFilter copier;
    private final LongAdder templateReadBytes = new LongAdder();
    private final AtomicReference<Job> job = new AtomicReference<>();
    private volatile ImagesDroppedListener droppedListener = (device, images) -> {};

    /** A disk over an open chain; with {@code copyOnRead} every read copies into the top. */
    public Disk(String name, ImageChain chain, boolean copyOnRead) throws IOException {
        this(name, chain, copyOnRead, UnaryOperator.identity());
    }

    /**
     * A disk whose copies and guest requests reach the top through {@code aboveTop} (applied to the
     * top): where a test puts a fault-injecting device under the copier, as blkdebug sits under a
     * format driver.
     */
    Disk(String name, ImageChain chain, boolean copyOnRead, UnaryOperator<BlockDevice> aboveTop) throws IOException {
        this.name = Objects.requireNonNull(name, "name");
        this.chain = Objects.requireNonNull(chain, "chain");
        long cluster = chain.top().info().clusterSizeBytes().orElse((int) DEFAULT_CLUSTER_BYTES);
        this.copier = new CopyOnReadFilter(aboveTop.apply(chain.top()), cluster);
        this.front = new RequestGate(copier, cluster, copyOnRead);
        countTemplateReads();
    }

    /** Puts a counter over the top's backing, whatever it is now (the chain may have changed). */
    private void countTemplateReads() {
        List<Image> images = chain.images();
        if (images.size() > 1) {
            images.getFirst().attachBacking(Optional.of(new ReadCountingFilter(images.get(1), templateReadBytes)));
        }
    }

    /** Opens the chain under {@code path} for writing (format probed when empty) as a disk. */
    public static Disk open(String name, Path path, Optional<String> format, boolean copyOnRead) throws IOException {
        return open(name, path, format, copyOnRead, RemoteBackingPolicy.LOCAL_ONLY);
    }

    /** {@link #open}, following remote backing names as {@code remote} allows. */
    public static Disk open(
            String name, Path path, Optional<String> format, boolean copyOnRead, RemoteBackingPolicy remote)
            throws IOException {
        ImageChain chain = ImageChain.open(path, format, OpenOptions.READ_WRITE.withRemote(remote));
        try {
            return new Disk(name, chain, copyOnRead);
        } catch (IOException | RuntimeException e) {
            chain.close();
            throw e;
        }
    }

    public String name() {
        return name;
    }

    /** The device guests and jobs read and write through. */
    public RequestGate device() {
        return front;
    }

    public Image top() {
        return chain.top();
    }

    /** The images of the chain now, top first. */
    public synchronized List<Image> images() {
        return chain.images();
    }

    /** Bytes written into the top by copies (a pull's and copy-on-read's) since the disk was opened. */
    public long copiedBytes() {
        return copier.copiedBytes();
    }

    /** Bytes the top has read from the images below it (the template) since the disk was opened. */
    public long templateReadBytes() {
        return templateReadBytes.sum();
    }

    /** The job on this disk, if one exists. */
    public Optional<Job> job() {
        return Optional.ofNullable(job.get());
    }

    /** Sets who is told when images leave the chain. */
    public void onImagesDropped(ImagesDroppedListener listener) {
        this.droppedListener = Objects.requireNonNull(listener, "listener");
    }

    /** Claims the job slot, or says which job holds it. */
    void claim(Job newJob) {
        Job holder = job.compareAndExchange(null, newJob);
        if (holder != null) {
            throw new IllegalStateException("disk '" + name + "' already has a " + holder.type() + " job ("
                    + holder.status().name().toLowerCase(java.util.Locale.ROOT)
                    + "); one job per disk: wait for it or cancel it");
        }
    }

    void release(Job finished) {
        job.compareAndSet(finished, null);
    }

    /**
     * Removes images {@code [fromIndex, toIndex)} from the chain while no request is in flight,
     * closes them and tells the listener.
     */
    void dropImages(int fromIndex, int toIndex) throws IOException {
        List<Path> dropped;
        synchronized (this) {
            dropped = chain.images().subList(fromIndex, toIndex).stream()
                    .map(Image::path)
                    .toList();
            try (var quiet = front.quiesce()) {
                chain.remove(fromIndex, toIndex);
                countTemplateReads();
            }
        }
        droppedListener.imagesDropped(name, dropped);
    }

    @Override
    public void close() throws IOException {
        chain.close();
    }
}
