package io.siphon.format.qcow2;

import io.siphon.block.BlockDevice;
import io.siphon.block.Extent;
import io.siphon.block.FullReads;
import io.siphon.block.RequestFlag;
import io.siphon.format.BackingReference;
import io.siphon.format.CheckReport;
import io.siphon.format.Image;
import io.siphon.format.ImageFile;
import io.siphon.format.ImageFormat;
import io.siphon.format.ImageInfo;
import io.siphon.format.OpenOptions;
import io.siphon.format.Preallocation;
import io.siphon.format.RepairMode;
import io.siphon.util.Alignment;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An open qcow2 image.
 *
 * <p>Thread safety: an I/O read-write lock lets reads and in-place overwrites of allocated clusters
 * run concurrently (shared), while anything that changes the mapping (allocating writes, zeroing,
 * discard, flush, header changes) runs alone (exclusive). A separate metadata lock guards the
 * tables and caches for the short lookups that shared holders make.
 *
 * <p>This class is the locks and the device face: the mapping and its changes are {@link
 * Qcow2ClusterMap}'s, the tables, caches and their write order {@link Qcow2Metadata}'s.
 */
final class Qcow2Image implements Image {
    private static final Logger LOG = LoggerFactory.getLogger(Qcow2Image.class);
    private static final long SECTOR_BYTES = 512;

    private final ImageFile file;
    private final Path path;
    private final long sizeBytes;
    private final boolean writable;
    private final Qcow2Metadata metadata;
    private final Qcow2ClusterMap map;
    private final ReentrantReadWriteLock ioLock = new ReentrantReadWriteLock();
    private final ReentrantLock metaLock = new ReentrantLock();

    private final ClusterCompressor compressor;
    private boolean closed;
    private long decompressedEntry = -1;
    private final byte[] decompressed;

    private Qcow2Image(ImageFile file, Qcow2Header header, boolean writable, boolean lenient) throws IOException {
        this.file = file;
        this.path = file.path();
        // QEMU counts whole 512-byte sectors (bs->total_sectors): a size that is not a multiple rounds down
        this.sizeBytes = Alignment.alignDown(header.sizeBytes(), SECTOR_BYTES);
        this.writable = writable;
        this.decompressed = new byte[header.clusterSize()];
        this.metadata = new Qcow2Metadata(file, header, lenient);
        this.map = new Qcow2ClusterMap(metadata, sizeBytes, this::readGuest);
        this.compressor = new ClusterCompressor(path, header.compressionType());
    }

    /** Opens the image on {@code file}; a dirty image opened for writing is repaired first. */
    static Qcow2Image open(ImageFile file, OpenOptions options) throws IOException {
        return open(file, options, false);
    }

    /**
     * Opens the image for {@link #check}: read-only, L1 entries that name no usable L2 table are
     * kept for the checker to report (and read as unallocated) instead of refusing the image.
     */
    static Qcow2Image openForCheck(ImageFile file, OpenOptions options) throws IOException {
        return open(file, options, !options.writable());
    }

    private static Qcow2Image open(ImageFile file, OpenOptions options, boolean lenient) throws IOException {
        Qcow2Header header = Qcow2Header.read(file);
        boolean writable = options.writable();
        Qcow2Image image = new Qcow2Image(file, header, writable, lenient);
        if (writable) {
            image.prepareForWriting();
        }
        return image;
    }

    private void prepareForWriting() throws IOException {
        Qcow2Header header = metadata.header();
        if (header.autoclearFeatures() != 0) {
            // Siphon maintains none of the auto-clear features (bitmaps, raw external data)
            LOG.info("{}: clearing auto-clear feature bits {}", path, Errors.hex(header.autoclearFeatures()));
            metadata.writeHeader(header.withAutoclearFeatures(0));
        }
        header = metadata.header();
        if (header.isDirty() && !header.isCorrupt()) {
            LOG.info("{}: image is dirty; rebuilding refcounts", path);
            CheckReport report = new Qcow2Checker(metadata).run(RepairMode.ALL);
            LOG.info("{}: repaired {} corruptions and {} leaks", path, report.corruptionsFixed(), report.leaksFixed());
            header = metadata.header();
            metadata.writeHeader(
                    header.withIncompatibleFeatures(header.incompatibleFeatures() & ~Qcow2Header.INCOMPAT_DIRTY));
        }
    }

    /** Runs {@code action} alone, with the metadata lock held. */
    private <T> T exclusively(IoAction<T> action) throws IOException {
        ioLock.writeLock().lock();
        metaLock.lock();
        try {
            ensureOpen();
            return action.run();
        } finally {
            metaLock.unlock();
            ioLock.writeLock().unlock();
        }
    }

    private void exclusively(IoStep step) throws IOException {
        IoAction<Void> action = () -> {
            step.run();
            return null;
        };
        exclusively(action);
    }

    private interface IoAction<T> {
        T run() throws IOException;
    }

    private interface IoStep {
        void run() throws IOException;
    }

    /** Allocates a new image's clusters up front ({@link Qcow2Preallocator}). Used by create only. */
    void preallocate(Preallocation mode) throws IOException {
        exclusively(() -> new Qcow2Preallocator(metadata, map, sizeBytes).run(mode));
    }

    /** Gives a new image of {@code newSizeBytes} its (zeroed) L1 table. Used by create only. */
    void initializeL1(long newSizeBytes) throws IOException {
        exclusively(() -> metadata.initializeL1(newSizeBytes));
    }

    /**
     * Changes the virtual size and closes the image (an open image's size is fixed). Shrinking drops
     * what lies past the new size, first zeroing the rest of its last cluster so that growing again
     * reads zeroes there.
     */
    void resize(long newSizeBytes) throws IOException {
        requireWritable();
        exclusively(() -> resizeLocked(newSizeBytes));
        close();
    }

    private void resizeLocked(long newSizeBytes) throws IOException {
        if (newSizeBytes % 512 != 0) {
            throw Errors.refused(path, "size", newSizeBytes + ": the new size must be a multiple of 512");
        }
        if (newSizeBytes < sizeBytes) {
            long clusterEnd = Math.min(
                    sizeBytes,
                    Alignment.alignUp(newSizeBytes, metadata.geometry().clusterSize()));
            if (clusterEnd > newSizeBytes) {
                map.writeZeroes(newSizeBytes, clusterEnd - newSizeBytes, false, false);
            }
            if (sizeBytes > clusterEnd) {
                map.discard(clusterEnd, sizeBytes - clusterEnd);
            }
        }
        metadata.flush();
        metadata.resize(newSizeBytes);
    }

    /**
     * Changes what {@code qemu-img amend} changes, in qcow2_amend_options' order (upgrade, refcount
     * width, lazy refcounts, size, downgrade last), and closes the image; every refusal comes before
     * the first change. A downgrade to version 2 first turns
     * every zero cluster into what version 2 can say (QEMU's qcow2_expand_zero_clusters).
     */
    void amend(Qcow2AmendOptions options, ImageFormat.AmendProgress progress) throws IOException {
        requireWritableFile();
        exclusively(() -> {
            Qcow2Header header = metadata.header();
            int version = options.version().orElse(header.version());
            checkAmend(options, header, version);
            if (version > header.version()) {
                metadata.writeHeader(header.withCompat(version));
            }
            if (options.refcountBits().isPresent()
                    && options.refcountBits().getAsInt() != metadata.geometry().refcountBits()) {
                // qemu-img's progress is the width change's alone when it is the only operation
                int order = Integer.numberOfTrailingZeros(options.refcountBits().getAsInt());
                new RefcountWidthChange(metadata, order)
                        .run(version == header.version() ? progress : ImageFormat.AmendProgress.NONE);
            }
            if (options.lazyRefcounts().isPresent()
                    && options.lazyRefcounts().get() != metadata.header().lazyRefcounts()) {
                metadata.flush();
                Qcow2Header current = metadata.header();
                long compatible = options.lazyRefcounts().get()
                        ? current.compatibleFeatures() | Qcow2Header.COMPAT_LAZY_REFCOUNTS
                        : current.compatibleFeatures() & ~Qcow2Header.COMPAT_LAZY_REFCOUNTS;
                metadata.writeHeader(current.withCompatibleFeatures(compatible));
            }
            if (options.sizeBytes().isPresent() && options.sizeBytes().getAsLong() != sizeBytes) {
                resizeLocked(options.sizeBytes().getAsLong());
            }
            if (version < header.version()) {
                map.expandZeroClusters();
                metadata.flush();
                metadata.writeHeader(metadata.header().withCompat(version));
            }
        });
        close();
    }

    /** qemu-img 7.2's refusals, before anything changes. */
    private void checkAmend(Qcow2AmendOptions options, Qcow2Header header, int version) throws IOException {
        // the image is open, so it is unencrypted and has no external data file
        if (options.encryption()) {
            throw Qcow2AmendOptions.refused("Can't amend encryption options - encryption not present");
        }
        if (options.dataFile().isPresent()) {
            throw Qcow2AmendOptions.refused("data-file can only be set for images that use an external data file");
        }
        if (options.dataFileRaw().orElse(false)) {
            throw Qcow2AmendOptions.refused("data-file-raw cannot be set on existing images");
        }
        if ((options.backingFile().isPresent() || options.backingFormat().isPresent())
                && (!options.backingFile().equals(header.backingFile())
                        || !options.backingFormat().equals(header.backingFormat()))) {
            throw Qcow2AmendOptions.refused("Cannot amend the backing file\nYou can use 'qemu-img rebase' instead.");
        }
        if (options.lazyRefcounts().orElse(false) && version < 3) {
            throw Qcow2AmendOptions.refused("Lazy refcounts only supported with compatibility level 1.1 and above"
                    + " (use compat=1.1 or greater)");
        }
        int refcountBits = options.refcountBits().orElse(metadata.geometry().refcountBits());
        if (refcountBits != metadata.geometry().refcountBits()) {
            if (version < 3 && refcountBits != 16) {
                throw Qcow2AmendOptions.refused("Refcount widths other than 16 bits require compatibility level 1.1"
                        + " or above (use compat=1.1 or greater)");
            }
            new RefcountWidthChange(metadata, Integer.numberOfTrailingZeros(refcountBits)).check();
        }
        if (header.nbSnapshots() > 0 && version < header.version()) {
            // QEMU expands the zero clusters of every snapshot too; Siphon those of the active layer only
            throw Errors.unsupported(
                    path, "nb_snapshots", "downgrading an image with internal snapshots is not supported");
        }
        requireNotCorrupt();
        if (version < header.version()) {
            if (refcountBits != 16) {
                throw Qcow2AmendOptions.refused("compat=0.10 requires refcount_bits=16");
            }
            long blocking = header.incompatibleFeatures()
                    & ~(Qcow2Header.INCOMPAT_DIRTY | Qcow2Header.INCOMPAT_COMPRESSION_TYPE);
            if ((blocking & Qcow2Header.INCOMPAT_EXTENDED_L2) != 0) {
                // qemu-img names every incompatible feature but these two, which it handles itself
                throw Qcow2AmendOptions.refused("Cannot downgrade an image with incompatible features 0x"
                        + Long.toHexString(blocking) + " set");
            }
            if (!BitmapDirectory.read(file, header).isEmpty()) {
                throw Qcow2AmendOptions.refused("Cannot downgrade an image with bitmaps");
            }
            if (header.compressionType() != Qcow2Header.COMPRESSION_ZLIB && map.hasCompressedClusters()) {
                // QEMU 7.2 downgrades it, and then reads its zstd clusters as zlib
                throw Qcow2AmendOptions.refused(
                        "Cannot downgrade an image with zstd compressed clusters: version 2" + " has zlib only");
            }
        }
    }

    // ---- read

    @Override
    public long sizeBytes() {
        return sizeBytes;
    }

    @Override
    public boolean isReadOnly() {
        return !writable;
    }

    @Override
    public void read(long offsetBytes, ByteBuffer dst, Set<RequestFlag> flags) throws IOException {
        ioLock.readLock().lock();
        try {
            ensureOpen();
            readGuest(offsetBytes, dst);
        } finally {
            ioLock.readLock().unlock();
        }
    }

    /** Reads guest bytes as the image presents them; the caller holds the I/O lock. */
    private void readGuest(long offset, ByteBuffer dst) throws IOException {
        while (dst.hasRemaining()) {
            Mapping m = lookup(offset, dst.remaining());
            int n = (int) m.length();
            ByteBuffer part = dst.slice(dst.position(), n);
            switch (m.kind()) {
                case DATA -> file.readZeroPadded(m.hostOffset(), part);
                case ZERO_PLAIN, ZERO_ALLOC -> Zeroes.fill(part);
                case UNALLOCATED -> readBacking(offset, part);
                case COMPRESSED -> readCompressed(m, part);
            }
            dst.position(dst.position() + n);
            offset += n;
        }
    }

    private Mapping lookup(long offset, long length) throws IOException {
        metaLock.lock();
        try {
            return map.map(offset, length);
        } finally {
            metaLock.unlock();
        }
    }

    private void readBacking(long offset, ByteBuffer part) throws IOException {
        Optional<BlockDevice> below = map.backing();
        long available = below.isPresent() ? Math.max(0, below.get().sizeBytes() - offset) : 0;
        int fromBacking = (int) Math.min(part.remaining(), available);
        if (fromBacking > 0) {
            FullReads.read(below.get(), offset, part.slice(0, fromBacking));
        }
        Zeroes.fill(part.slice(fromBacking, part.remaining() - fromBacking));
    }

    private void readCompressed(Mapping m, ByteBuffer part) throws IOException {
        metaLock.lock();
        try {
            if (decompressedEntry != m.entry()) {
                decompressedEntry = -1;
                metadata.compressed().read(m.entry(), metadata.allocator().fileEnd(), decompressed);
                decompressedEntry = m.entry();
            }
            part.put(decompressed, metadata.geometry().offsetInCluster(m.guestOffset()), part.remaining());
        } finally {
            metaLock.unlock();
        }
    }

    // ---- write

    @Override
    public void write(long offsetBytes, ByteBuffer src, Set<RequestFlag> flags) throws IOException {
        requireWritable();
        long offset = offsetBytes;
        ioLock.readLock().lock();
        try {
            ensureOpen();
            while (src.hasRemaining()) {
                Mapping m = lookup(offset, src.remaining());
                if (!m.writableInPlace()) {
                    break;
                }
                offset += map.writeInPlace(m, src);
            }
        } finally {
            ioLock.readLock().unlock();
        }
        if (src.hasRemaining()) {
            long from = offset;
            exclusively(() -> map.write(from, src));
        }
        if (flags.contains(RequestFlag.FUA)) {
            flush();
        }
    }

    /** Compresses each cluster outside the locks, then stores it (or, if it did not shrink, writes it as it is). */
    @Override
    public void writeCompressed(long offsetBytes, ByteBuffer src) throws IOException {
        requireWritable();
        int clusterSize = metadata.geometry().clusterSize();
        if (metadata.geometry().offsetInCluster(offsetBytes) != 0
                || (src.remaining() % clusterSize != 0 && offsetBytes + src.remaining() != sizeBytes)) {
            throw Errors.refused(
                    path,
                    "guest offset " + offsetBytes,
                    "a compressed write of " + src.remaining() + " bytes is not whole clusters");
        }
        byte[] cluster = new byte[clusterSize];
        byte[] packed = new byte[clusterSize];
        long at = offsetBytes;
        while (src.hasRemaining()) {
            int n = Math.min(clusterSize, src.remaining());
            ByteBuffer part = src.slice(src.position(), n);
            Arrays.fill(cluster, n, clusterSize, (byte) 0); // the last part cluster is padded
            part.get(0, cluster, 0, n);
            int length = compressor.compress(cluster, packed);
            long clusterOffset = at;
            if (length < 0) {
                write(clusterOffset, part, Set.of());
            } else {
                exclusively(() -> map.writeCompressed(clusterOffset, packed, length));
            }
            src.position(src.position() + n);
            at += n;
        }
    }

    @Override
    public void writeZeroes(long offsetBytes, long lengthBytes, Set<RequestFlag> flags) throws IOException {
        requireWritable();
        if (lengthBytes == 0) {
            return;
        }
        boolean mayUnmap = flags.contains(RequestFlag.MAY_UNMAP);
        boolean noFallback = flags.contains(RequestFlag.NO_FALLBACK);
        exclusively(() -> map.writeZeroes(offsetBytes, lengthBytes, mayUnmap, noFallback));
        if (flags.contains(RequestFlag.FUA)) {
            flush();
        }
    }

    @Override
    public void discard(long offsetBytes, long lengthBytes) throws IOException {
        requireWritable();
        if (lengthBytes == 0) {
            return;
        }
        exclusively(() -> map.discard(offsetBytes, lengthBytes));
    }

    // ---- flush and close

    @Override
    public void flush() throws IOException {
        if (!writable) {
            return;
        }
        exclusively(() -> metadata.flush());
    }

    @Override
    public void close() throws IOException {
        ioLock.writeLock().lock();
        metaLock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            try {
                if (writable) {
                    metadata.flush();
                    metadata.clearDirtyMark();
                }
            } finally {
                file.close();
            }
        } finally {
            metaLock.unlock();
            ioLock.writeLock().unlock();
        }
    }

    // ---- block status

    @Override
    public List<Extent> blockStatus(long offsetBytes, long lengthBytes) throws IOException {
        List<Extent> extents = new ArrayList<>();
        if (lengthBytes == 0) {
            return extents;
        }
        ioLock.readLock().lock();
        try {
            ensureOpen();
            long at = offsetBytes;
            long end = offsetBytes + lengthBytes;
            while (at < end && extents.size() < 4096) {
                Mapping m = lookup(at, end - at);
                append(extents, m.extent());
                at = m.end();
            }
        } finally {
            ioLock.readLock().unlock();
        }
        return extents;
    }

    private static void append(List<Extent> extents, Extent next) {
        if (!extents.isEmpty()) {
            Extent last = extents.getLast();
            boolean hostContiguous = last.hostOffsetBytes() == Extent.NO_HOST_OFFSET
                    ? next.hostOffsetBytes() == Extent.NO_HOST_OFFSET
                    : next.hostOffsetBytes() == last.hostOffsetBytes() + last.lengthBytes();
            if (last.allocation() == next.allocation() && hostContiguous) {
                extents.set(
                        extents.size() - 1,
                        new Extent(
                                last.offsetBytes(),
                                last.lengthBytes() + next.lengthBytes(),
                                last.allocation(),
                                last.hostOffsetBytes()));
                return;
            }
        }
        extents.add(next);
    }

    // ---- image

    @Override
    public Path path() {
        return path;
    }

    @Override
    public String formatName() {
        return Qcow2Format.NAME;
    }

    @Override
    public Optional<BackingReference> backingReference() {
        Qcow2Header current = metadata.header();
        return current.backingFile().map(name -> new BackingReference(name, current.backingFormat()));
    }

    @Override
    public void attachBacking(Optional<? extends BlockDevice> backing) {
        map.attachBacking(backing.map(b -> (BlockDevice) b));
    }

    @Override
    public Optional<BlockDevice> backing() {
        return map.backing();
    }

    @Override
    public void changeBackingReference(Optional<BackingReference> reference) throws IOException {
        requireWritable();
        exclusively(() -> metadata.writeHeader(metadata.header()
                .withBacking(reference.map(BackingReference::name), reference.flatMap(BackingReference::format))));
    }

    @Override
    public ImageInfo info() throws IOException {
        Qcow2Header current = metadata.header();
        Map<String, Object> specific = new LinkedHashMap<>();
        specific.put("compat", current.version() == 2 ? "0.10" : "1.1");
        specific.put("compression-type", current.compressionType() == Qcow2Header.COMPRESSION_ZSTD ? "zstd" : "zlib");
        if (current.version() >= 3) {
            specific.put("lazy-refcounts", current.lazyRefcounts());
        }
        List<Map<String, Object>> bitmaps = new ArrayList<>();
        for (BitmapDirectory.Bitmap bitmap : BitmapDirectory.read(file, current)) {
            Map<String, Object> shown = new LinkedHashMap<>(); // qemu-img's order
            List<String> flags = new ArrayList<>();
            if (bitmap.inUse()) {
                flags.add("in-use");
            }
            if (bitmap.auto()) {
                flags.add("auto");
            }
            shown.put("flags", flags);
            shown.put("name", bitmap.name());
            shown.put("granularity", bitmap.granularityBytes());
            bitmaps.add(shown);
        }
        if (!bitmaps.isEmpty()) {
            specific.put("bitmaps", bitmaps);
        }
        specific.put("refcount-bits", metadata.geometry().refcountBits());
        if (current.version() >= 3) {
            specific.put("corrupt", current.isCorrupt());
            specific.put("extended-l2", (current.incompatibleFeatures() & Qcow2Header.INCOMPAT_EXTENDED_L2) != 0);
        }
        return new ImageInfo(
                Qcow2Format.NAME,
                path,
                sizeBytes,
                OptionalInt.of(current.clusterSize()),
                backingReference(),
                current.isDirty(),
                specific,
                OptionalLong.of(file.allocatedBytes()),
                SnapshotTable.read(file, current).stream()
                        .map(SnapshotTable.Entry::snapshot)
                        .toList());
    }

    @Override
    public CheckReport check(RepairMode mode) throws IOException {
        if (mode != RepairMode.NONE) {
            requireWritableFile();
        }
        return exclusively(() -> {
            if (writable) {
                metadata.flush();
            }
            return new Qcow2Checker(metadata).run(mode);
        });
    }

    private void ensureOpen() throws IOException {
        if (closed) {
            throw new IOException(path + ": image is closed");
        }
    }

    private void requireWritableFile() throws IOException {
        if (!writable) {
            throw Errors.refused(path, "", "image is open read-only");
        }
    }

    /** Takes a disk-only internal snapshot named {@code name}, dated now. */
    void createSnapshot(String name) throws IOException {
        requireWritableFile();
        java.time.Instant now = java.time.Instant.now();
        exclusively(() -> new Qcow2Snapshots(metadata).create(name, now.getEpochSecond(), now.getNano(), sizeBytes));
    }

    /** Empties the image as QEMU's qcow2_make_empty ({@link Qcow2Emptier}) and closes it. */
    void makeEmpty() throws IOException {
        requireWritable();
        exclusively(() -> {
            Qcow2Emptier emptier = new Qcow2Emptier(metadata);
            if (emptier.canRewrite()) {
                emptier.rewrite();
            } else {
                map.unmapAll();
                metadata.flush();
            }
        });
        close();
    }

    /**
     * Reverts the disk to the first internal snapshot named {@code name} and closes the image (the
     * virtual size may change with it).
     */
    void applySnapshot(String name) throws IOException {
        requireWritableFile();
        exclusively(() -> new Qcow2Snapshots(metadata).apply(name));
        close();
    }

    /** Deletes the first internal snapshot named {@code name}. */
    void deleteSnapshot(String name) throws IOException {
        requireWritableFile();
        exclusively(() -> new Qcow2Snapshots(metadata).delete(name));
    }

    private void requireWritable() throws IOException {
        requireWritableFile();
        requireNotCorrupt();
    }

    private void requireNotCorrupt() throws IOException {
        if (metadata.header().isCorrupt()) {
            throw Errors.refused(
                    path, "incompatible_features", "image is marked corrupt; repair it (check -r all) before writing");
        }
    }
}
