package io.siphon.blockjob;

import java.nio.file.Path;
import java.util.List;

/**
 * Told which images left a disk's chain, after they were closed (no descriptor or lock on them
 * remains), so that a manager can revoke the access it granted to them. Called on the job's thread,
 * before the job's COMPLETED event.
 */
@FunctionalInterface
public interface ImagesDroppedListener {
    void imagesDropped(String device, List<Path> images);
}
