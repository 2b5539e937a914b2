package io.siphon.image;

import io.siphon.block.Allocation;
import io.siphon.block.Extent;
import io.siphon.block.RequestFlag;
import io.siphon.format.Formats;
import io.siphon.format.Image;
import io.siphon.format.ImageChain;
import io.siphon.format.ImageFormatException;
import io.siphon.format.OpenOptions;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * {@code qemu-img commit}: writes what the images above a base hold into the base (the top's
 * immediate backing, or a named image further down), growing the base to the top's size first;
 * then empties the top, unless told not to or given a base (qemu-img 7.2: {@code -b} implies
 * {@code -d}, as the images between may no longer read right). The top keeps its backing link.
 * Stateless; one call per commit.
 */
public final class ImageCommitter {
    private ImageCommitter() {}

    /**
     * What to commit.
     *
     * @param topFormat the top's format, probed when empty
     * @param base the image to commit into, as {@code -b} names it; the top's backing when empty
     * @param drop leave the top as it is ({@code -d})
     * @param rateBytesPerSecond at most this many bytes a second ({@code -r}); 0 for no limit
     */
    public record Options(Optional<String> topFormat, Optional<String> base, boolean drop, long rateBytesPerSecond) {}

    /** Commits {@code top} as {@code options} say, telling {@code progress} the bytes done. */
    public static void commit(Path top, Options options, ImageConverter.ProgressListener progress) throws IOException {
        Path basePath;
        String baseFormat;
        String topFormat;
        long sizeBytes;
        boolean grow;
        try (ImageChain chain = ImageChain.open(top, options.topFormat(), OpenOptions.READ_ONLY)) {
            int baseIndex = baseIndex(top, chain.images(), options.base());
            Image base = chain.images().get(baseIndex);
            basePath = base.path();
            baseFormat = base.formatName();
            topFormat = chain.top().formatName();
            sizeBytes = chain.top().sizeBytes();
            grow = base.sizeBytes() < sizeBytes;
        }
        if (grow) {
            Formats.byName(baseFormat).resize(basePath, sizeBytes);
        }
        // the base is written through its own chain; the top's chain, which holds it too, reads
        // without locks (only ranges the images above the base hold) while the top alone stays locked
        try (Image locked = ImageChain.openOne(top, Optional.of(topFormat), OpenOptions.READ_ONLY);
                ImageChain chain = ImageChain.open(top, Optional.of(topFormat), OpenOptions.FORCE_SHARE);
                ImageChain target = ImageChain.open(basePath, Optional.of(baseFormat), OpenOptions.READ_WRITE)) {
            int baseIndex = baseIndex(top, chain.images(), options.base());
            new Copy(chain.images().subList(0, baseIndex), target.top(), options.rateBytesPerSecond(), progress)
                    .run(sizeBytes);
            target.top().flush();
        }
        if (!options.drop() && options.base().isEmpty()) {
            Formats.byName(topFormat).makeEmpty(top);
        }
    }

    /** Where in the chain the base is, or qemu-img's error. */
    private static int baseIndex(Path top, List<Image> images, Optional<String> base) throws IOException {
        if (images.size() < 2) {
            throw failure("Image does not have a backing file");
        }
        if (base.isEmpty()) {
            return 1;
        }
        Path named = Path.of(base.get());
        for (int i = 1; i < images.size(); i++) {
            Image image = images.get(i);
            boolean sameName = images.get(i - 1)
                    .backingReference()
                    .map(reference -> reference.name().equals(base.get()))
                    .orElse(false);
            if (sameName || (Files.exists(named) && Files.isSameFile(named, image.path()))) {
                return i;
            }
        }
        throw failure("Did not find '" + base.get() + "' in the backing chain of '" + top + "'");
    }

    private static ImageFormatException failure(String message) {
        return new ImageFormatException(ImageFormatException.Reason.BAD_CHAIN, Path.of(""), "", message);
    }

    /** One commit in progress: {@code above} are the images above the base, top first. */
    private record Copy(
            List<Image> above, Image base, long rateBytesPerSecond, ImageConverter.ProgressListener progress) {

        void run(long sizeBytes) throws IOException {
            long total = 0;
            for (long at = 0; at < sizeBytes; ) {
                Extent extent = status(at, sizeBytes - at);
                total += extent.allocation().isAllocated() ? extent.lengthBytes() : 0;
                at += extent.lengthBytes();
            }
            progress.progress(0, total);
            ByteBuffer buffer = ByteBuffer.allocate(ImageConverter.CHUNK_BYTES);
            long done = 0;
            long started = System.nanoTime();
            for (long at = 0; at < sizeBytes; ) {
                Extent extent = status(at, Math.min(sizeBytes - at, ImageConverter.CHUNK_BYTES));
                long length = extent.lengthBytes();
                switch (extent.allocation()) {
                    case UNALLOCATED -> {} // the base's own data shows through: nothing to commit
                    case ZERO -> base.writeZeroes(at, length, Set.of(RequestFlag.MAY_UNMAP));
                    case DATA -> {
                        ByteBuffer data = buffer.clear().limit((int) length);
                        above.getFirst().read(at, data);
                        base.write(at, data.flip(), Set.of());
                    }
                }
                if (extent.allocation().isAllocated()) {
                    done += length;
                    progress.progress(done, total);
                    pace(done, started);
                }
                at += length;
            }
        }

        /** Holds the copy to the rate limit by waiting until the bytes done are due. */
        private void pace(long done, long started) throws IOException {
            if (rateBytesPerSecond <= 0) {
                return;
            }
            long dueNanos = started + (long) (done * 1e9 / rateBytesPerSecond);
            long wait = dueNanos - System.nanoTime();
            if (wait > 0) {
                try {
                    Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException("commit interrupted", e);
                }
            }
        }

        /**
         * What the images above the base hold at {@code offset}: the first that holds the range
         * decides (a range past an image's end reads as zeroes there, hiding what lies below);
         * UNALLOCATED when none holds it.
         */
        private Extent status(long offset, long length) throws IOException {
            long bound = length;
            for (Image image : above) {
                if (offset >= image.sizeBytes()) {
                    return new Extent(offset, bound, Allocation.ZERO, Extent.NO_HOST_OFFSET);
                }
                bound = Math.min(bound, image.sizeBytes() - offset);
                Extent extent = image.blockStatus(offset, bound).getFirst();
                bound = Math.min(bound, extent.lengthBytes());
                if (extent.allocation().isAllocated()) {
                    return new Extent(offset, bound, extent.allocation(), Extent.NO_HOST_OFFSET);
                }
            }
            return new Extent(offset, bound, Allocation.UNALLOCATED, Extent.NO_HOST_OFFSET);
        }
    }
}
