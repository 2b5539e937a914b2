package io.siphon.daemon;

import io.siphon.block.BlockDevice;
import io.siphon.format.ImageChain;
import io.siphon.format.OpenOptions;
import java.io.IOException;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;

/**
 * One disk of a started domain: its open chain, the device guests use (the top, behind a
 * copy-on-read filter when the definition asks), and its job. Guarded by the domain manager.
 */
final class RunningDisk {
    private final DiskDefinition definition;
    private final ImageChain chain;
    private final BlockDevice device;
    private Optional<PullJob> job = Optional.empty();
    private CountDownLatch jobEnded = new CountDownLatch(0);

    private RunningDisk(DiskDefinition definition, ImageChain chain, BlockDevice device) {
        this.definition = definition;
        this.chain = chain;
        this.device = device;
    }

    /** Opens the disk's chain: the top writable unless the disk is read-only, every backing read-only. */
    static RunningDisk open(DiskDefinition definition) throws IOException {
        OpenOptions options = definition.readOnly() ? OpenOptions.READ_ONLY : OpenOptions.READ_WRITE;
        ImageChain chain = ImageChain.open(definition.source(), definition.format(), options);
        return new RunningDisk(definition, chain, chain.top());
    }

    String target() {
        return definition.target();
    }

    DiskDefinition definition() {
        return definition;
    }

    ImageChain chain() {
        return chain;
    }

    /** The device guests and exports use. */
    BlockDevice device() {
        return device;
    }

    Optional<PullJob> job() {
        return job;
    }

    /** Records a started job; {@link #jobEnded()} is released when {@link #clearJob()} runs. */
    void setJob(PullJob started, CountDownLatch ended) {
        job = Optional.of(started);
        jobEnded = ended;
    }

    void clearJob() {
        job = Optional.empty();
    }

    CountDownLatch jobEnded() {
        return jobEnded;
    }

    /** Flushes (when {@code flush}) and closes the chain; the first failure is thrown after closing. */
    void close(boolean flush) throws IOException {
        IOException failure = null;
        if (flush && !definition.readOnly()) {
            try {
                device.flush();
            } catch (IOException e) {
                failure = e;
            }
        }
        try {
            chain.close();
        } catch (IOException e) {
            if (failure == null) {
                failure = e;
            } else {
                failure.addSuppressed(e);
            }
        }
        if (failure != null) {
            throw failure;
        }
    }
}
