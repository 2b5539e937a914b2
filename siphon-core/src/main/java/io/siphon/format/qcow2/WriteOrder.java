package io.siphon.format.qcow2;

import io.siphon.format.ImageFile;
import java.io.IOException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Flush barriers between writes that must reach the disk in order (data and refcounts before the
 * L2 entry that points to them). Thread-safe: data writes from many threads mark the file
 * unsynced; a barrier syncs once for all of them.
 */
final class WriteOrder {
    private final ImageFile file;
    private final AtomicBoolean unsynced = new AtomicBoolean();

    WriteOrder(ImageFile file) {
        this.file = file;
    }

    /** Records that something was written since the last barrier. Call after the write returns. */
    void wrote() {
        unsynced.set(true);
    }

    /** Makes everything written so far durable before anything written afterwards (fdatasync). */
    void barrier() throws IOException {
        if (unsynced.getAndSet(false)) {
            try {
                file.flush();
            } catch (IOException e) {
                unsynced.set(true);
                throw e;
            }
        }
    }
}
