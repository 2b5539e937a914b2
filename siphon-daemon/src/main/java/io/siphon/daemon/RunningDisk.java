package io.siphon.daemon;

import io.siphon.block.BlockDevice;
import io.siphon.blockjob.Disk;
import io.siphon.domain.DiskDefinition;
import io.siphon.format.Image;
import io.siphon.format.ImageChain;
import io.siphon.format.OpenOptions;
import io.siphon.format.RemoteBackingPolicy;
import io.siphon.util.FirstFailure;
import java.io.IOException;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One disk of a started domain: the engine's {@link Disk} (chain, locks and the copy-on-read front
 * device guests and jobs use) and the daemon's view of its job. Job fields are guarded by this
 * object's monitor.
 */
final class RunningDisk {
    private static final Logger LOG = LoggerFactory.getLogger(RunningDisk.class);

    private final String domain;
    private final DiskDefinition definition;
    private final Disk disk;
    private Optional<PullJob> job = Optional.empty();
    private CountDownLatch jobEnded = new CountDownLatch(0);

    private RunningDisk(String domain, DiskDefinition definition, Disk disk) {
        this.domain = domain;
        this.definition = definition;
        this.disk = disk;
        disk.onImagesDropped((device, images) ->
                LOG.info("domain {} disk {}: closed and unlocked {} (no longer in the chain)", domain, device, images));
    }

    /**
     * Opens the disk's chain (taking QEMU's image locks): the top writable unless the disk is
     * read-only, every backing image read-only. Remote backing names are followed as {@code remote}
     * allows.
     */
    static RunningDisk open(String domain, DiskDefinition definition, RemoteBackingPolicy remote) throws IOException {
        OpenOptions options =
                (definition.readOnly() ? OpenOptions.READ_ONLY : OpenOptions.READ_WRITE).withRemote(remote);
        ImageChain chain = ImageChain.open(definition.source(), definition.format(), options);
        try {
            Disk disk = new Disk(definition.target(), chain, definition.copyOnRead() && !definition.readOnly());
            return new RunningDisk(domain, definition, disk);
        } catch (IOException | RuntimeException e) {
            chain.close();
            throw e;
        }
    }

    String domain() {
        return domain;
    }

    String target() {
        return definition.target();
    }

    DiskDefinition definition() {
        return definition;
    }

    Disk disk() {
        return disk;
    }

    /** The images of the chain now, top first. */
    List<Image> images() {
        return disk.images();
    }

    /** The device guests and exports use. */
    BlockDevice device() {
        return disk.device();
    }

    Optional<PullJob> job() {
        return job;
    }

    /** Records a started job; {@code ended} is released by whoever sees it end. */
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
        FirstFailure failures = new FirstFailure();
        if (flush && !definition.readOnly()) {
            failures.run(() -> disk.device().flush());
        }
        failures.run(disk::close);
        failures.throwIfAny();
    }
}
