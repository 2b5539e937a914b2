package io.siphon.image;

import io.siphon.block.Allocation;
import io.siphon.block.Extent;
import io.siphon.block.RequestFlag;
import io.siphon.format.CreateOptions;
import io.siphon.format.Formats;
import io.siphon.format.Image;
import io.siphon.format.ImageChain;
import io.siphon.format.ImageFormat;
import io.siphon.format.ImageFormatException;
import io.siphon.format.OpenOptions;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code qemu-img convert}: copies what a chain reads into a new (or existing) image of any format,
 * leaving zero ranges unwritten where the target already reads zeroes (sparse output), and with a
 * backing file copying only what the source's top image holds. Stateless; one call per copy.
 */
public final class ImageConverter {
    /** qemu-img's copy buffer. */
    static final int CHUNK_BYTES = 2 << 20;

    /** Told the bytes done so far and the total after each chunk; called from the copying threads. */
    @FunctionalInterface
    public interface ProgressListener {
        void progress(long doneBytes, long totalBytes);
    }

    private ImageConverter() {}

    /** Converts {@code source} (and its backing chain) into {@code target}. */
    public static void convert(Path source, Path target, ConvertOptions options, ProgressListener progress)
            throws IOException {
        ImageFormat targetFormat = Formats.byName(options.targetFormat());
        if (options.compress()) {
            requireCompression(targetFormat, options);
        }
        if (!options.existingTarget()) {
            targetFormat.validateCreateOptions(target, options.targetOptions());
        }
        OpenOptions sourceOpen = options.forceShare() ? OpenOptions.FORCE_SHARE : OpenOptions.READ_ONLY;
        try (ImageChain chain = ImageChain.open(source, options.sourceFormat(), sourceOpen)) {
            long sizeBytes = chain.top().sizeBytes();
            if (!options.existingTarget()) {
                targetFormat.create(target, new CreateOptions(sizeBytes, options.backing(), options.targetOptions()));
            }
            Optional<String> writtenFormat =
                    options.existingTarget() ? Optional.empty() : Optional.of(options.targetFormat());
            try (ImageChain written = ImageChain.open(target, writtenFormat, OpenOptions.READ_WRITE)) {
                Image out = written.top();
                if (out.sizeBytes() < sizeBytes) {
                    throw new ImageFormatException(
                            ImageFormatException.Reason.REFUSED,
                            target,
                            "size",
                            "output file is smaller (" + out.sizeBytes() + " bytes) than the input (" + sizeBytes
                                    + " bytes)");
                }
                // a new image without a backing file reads zeroes everywhere: zeroes need no write
                boolean readsZeroes =
                        !options.existingTarget() && options.backing().isEmpty();
                int unit = options.compress() ? out.info().clusterSizeBytes().orElse(CHUNK_BYTES) : 0;
                new Copy(chain.images(), out, options, readsZeroes, unit, progress).run(sizeBytes);
                out.flush();
            }
        }
    }

    /** qemu-img's refusals of {@code -c}, in its words. */
    private static void requireCompression(ImageFormat targetFormat, ConvertOptions options)
            throws ImageFormatException {
        String refusal = null;
        if (!targetFormat.supportsCompression()) {
            refusal = "Compression not supported for this file format";
        } else if (!options.targetOptions().getOrDefault("preallocation", "off").equals("off")) {
            refusal = "Compression and preallocation not supported at the same time";
        }
        if (refusal != null) {
            throw new ImageFormatException(ImageFormatException.Reason.UNSUPPORTED, Path.of(""), "", refusal);
        }
    }

    /**
     * One conversion in progress; {@code compressedCluster} is the target's cluster size when every
     * cluster is written compressed, 0 otherwise.
     */
    private record Copy(
            List<Image> source,
            Image out,
            ConvertOptions options,
            boolean targetReadsZeroes,
            int compressedCluster,
            ProgressListener progress) {

        void run(long sizeBytes) throws IOException {
            AtomicLong nextChunk = new AtomicLong();
            Counter done = new Counter(new AtomicLong(), countedBytes(sizeBytes));
            int workers = options.outOfOrder() ? options.parallelRequests() : 1;
            progress.progress(0, done.totalBytes());
            if (workers == 1) {
                copyChunks(nextChunk, done, sizeBytes);
                return;
            }
            List<Thread> threads = new ArrayList<>();
            List<Throwable> failures = Collections.synchronizedList(new ArrayList<>());
            for (int i = 0; i < workers; i++) {
                threads.add(Thread.ofVirtual().name("convert-" + i).start(() -> {
                    try {
                        copyChunks(nextChunk, done, sizeBytes);
                    } catch (IOException | RuntimeException e) {
                        failures.add(e);
                        nextChunk.set(Long.MAX_VALUE / 2); // the others stop at their next chunk
                    }
                }));
            }
            for (Thread thread : threads) {
                try {
                    thread.join();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException("conversion interrupted", e);
                }
            }
            if (!failures.isEmpty()) {
                Throwable first = failures.getFirst();
                if (first instanceof IOException io) {
                    throw io;
                }
                throw (RuntimeException) first;
            }
        }

        /** Bytes done of the bytes progress counts. */
        private record Counter(AtomicLong doneBytes, long totalBytes) {}

        /**
         * What progress counts, as qemu-img: the ranges that are read (and, with no sparse size, the
         * zero ranges that are written), so that a sparse disk's progress follows its data.
         */
        private long countedBytes(long sizeBytes) throws IOException {
            long counted = 0;
            for (long at = 0; at < sizeBytes; ) {
                Extent extent = status(at, Math.min(sizeBytes - at, 1L << 30));
                if (counts(extent.allocation())) {
                    counted += extent.lengthBytes();
                }
                at += extent.lengthBytes();
            }
            return counted;
        }

        private boolean counts(Allocation allocation) {
            return allocation == Allocation.DATA || (allocation == Allocation.ZERO && options.sparseBytes() == 0);
        }

        private void copyChunks(AtomicLong nextChunk, Counter done, long sizeBytes) throws IOException {
            ByteBuffer buffer = ByteBuffer.allocate(CHUNK_BYTES);
            while (true) {
                long offset = nextChunk.getAndIncrement() * CHUNK_BYTES;
                if (offset < 0 || offset >= sizeBytes) {
                    return;
                }
                copyRange(offset, Math.min(sizeBytes, offset + CHUNK_BYTES), buffer, done);
            }
        }

        private void copyRange(long offset, long end, ByteBuffer buffer, Counter done) throws IOException {
            if (compressedCluster > 0) {
                for (long at = offset; at < end; at += compressedCluster) {
                    copyCluster(at, Math.min(end, at + compressedCluster), buffer, done);
                }
                return;
            }
            long at = offset;
            while (at < end) {
                Extent extent = status(at, end - at);
                long length = extent.lengthBytes();
                switch (extent.allocation()) {
                    case UNALLOCATED -> {} // left to the target's backing file
                    // with no sparse size, as qemu-img, zeroes are written as data (a fully allocated output)
                    case ZERO -> {
                        if (options.sparseBytes() == 0) {
                            data(at, (int) length, buffer);
                        } else {
                            zero(at, length);
                        }
                    }
                    case DATA -> data(at, (int) length, buffer);
                }
                if (counts(extent.allocation())) {
                    progress.progress(done.doneBytes().addAndGet(length), done.totalBytes());
                }
                at += length;
            }
        }

        /**
         * Copies one target cluster compressed, as qemu-img -c: a cluster that is all one kind keeps
         * it (unallocated is left to the backing, zeroes as without -c); a mixed one is data, written
         * whole unless it reads all zeroes (and a sparse size is set).
         */
        private void copyCluster(long start, long end, ByteBuffer buffer, Counter done) throws IOException {
            Extent first = status(start, end - start);
            Allocation kind = first.lengthBytes() == end - start ? first.allocation() : Allocation.DATA;
            long counted = 0;
            for (Extent extent = first;
                    ;
                    extent = status(
                            extent.offsetBytes() + extent.lengthBytes(),
                            end - extent.offsetBytes() - extent.lengthBytes())) {
                counted += counts(extent.allocation()) ? extent.lengthBytes() : 0;
                if (extent.offsetBytes() + extent.lengthBytes() >= end) {
                    break;
                }
            }
            int length = (int) (end - start);
            if (kind == Allocation.DATA || (kind == Allocation.ZERO && options.sparseBytes() == 0)) {
                ByteBuffer data = buffer.clear().limit(length);
                source.getFirst().read(start, data);
                data.flip();
                if (options.sparseBytes() == 0 || !isZero(data, 0, length)) {
                    out.writeCompressed(start, data);
                } else {
                    zero(start, length);
                }
            } else if (kind == Allocation.ZERO) {
                zero(start, length);
            }
            if (counted > 0) {
                progress.progress(done.doneBytes().addAndGet(counted), done.totalBytes());
            }
        }

        /**
         * What the source reads at {@code offset}: with a target backing file, the top image's own
         * status (UNALLOCATED is left to the backing); else the first image of the chain that holds
         * the range, ZERO where none does.
         */
        private Extent status(long offset, long length) throws IOException {
            if (options.backing().isPresent()) {
                return source.getFirst().blockStatus(offset, length).getFirst();
            }
            long bound = length;
            for (Image image : source) {
                if (offset >= image.sizeBytes()) {
                    break;
                }
                bound = Math.min(bound, image.sizeBytes() - offset);
                Extent extent = image.blockStatus(offset, bound).getFirst();
                bound = Math.min(bound, extent.lengthBytes());
                if (extent.allocation().isAllocated()) {
                    return new Extent(offset, bound, extent.allocation(), Extent.NO_HOST_OFFSET);
                }
            }
            return new Extent(offset, bound, Allocation.ZERO, Extent.NO_HOST_OFFSET);
        }

        private void zero(long offset, long length) throws IOException {
            if (!targetReadsZeroes) {
                out.writeZeroes(offset, length, Set.of(RequestFlag.MAY_UNMAP));
            }
        }

        /** Reads the range and writes it, leaving out (or zeroing) runs of zeroes of the sparse size. */
        private void data(long offset, int length, ByteBuffer buffer) throws IOException {
            ByteBuffer data = buffer.clear().limit(length);
            source.getFirst().read(offset, data);
            data.flip();
            long sparse = options.sparseBytes();
            if (sparse == 0) {
                out.write(offset, data);
                return;
            }
            int runStart = 0;
            boolean runIsZero = false;
            for (int at = 0; at < length; ) {
                int blockEnd = (int) Math.min(length, Math.floorDiv(offset + at + sparse, sparse) * sparse - offset);
                boolean zero = isZero(data, at, blockEnd);
                if (at > 0 && zero != runIsZero) {
                    flushRun(offset, data, runStart, at, runIsZero);
                    runStart = at;
                }
                runIsZero = zero;
                at = blockEnd;
            }
            flushRun(offset, data, runStart, length, runIsZero);
        }

        private void flushRun(long offset, ByteBuffer data, int from, int to, boolean zero) throws IOException {
            if (zero) {
                zero(offset + from, to - from);
            } else {
                out.write(offset + from, data.slice(from, to - from));
            }
        }

        private static boolean isZero(ByteBuffer data, int from, int to) {
            int at = from;
            for (; at + 8 <= to; at += 8) {
                if (data.getLong(at) != 0) {
                    return false;
                }
            }
            for (; at < to; at++) {
                if (data.get(at) != 0) {
                    return false;
                }
            }
            return true;
        }
    }
}
