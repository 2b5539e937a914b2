package io.siphon.format.qcow2;

import io.siphon.block.Allocation;
import io.siphon.block.BlockDevice;
import io.siphon.block.Extent;
import io.siphon.block.FastZeroUnsupportedException;
import io.siphon.block.RequestFlag;
import io.siphon.format.BackingReference;
import io.siphon.format.CheckReport;
import io.siphon.format.Image;
import io.siphon.format.ImageFile;
import io.siphon.format.ImageInfo;
import io.siphon.format.OpenOptions;
import io.siphon.format.RepairMode;
import io.siphon.util.Checked;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
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
 */
final class Qcow2Image implements Image {
    private static final Logger LOG = LoggerFactory.getLogger(Qcow2Image.class);
    private static final long L2_CACHE_BYTES = 8L << 20;
    private static final long MAX_ALLOCATION_RUN_BYTES = 32L << 20;
    private static final long MAX_PENDING_FREES = 1 << 16;
    private static final byte[] ZEROES = new byte[64 << 10];

    private final ImageFile file;
    private final Path path;
    private final Geometry geometry;
    private final int clusterSize;
    private final long sizeBytes;
    private final boolean writable;
    private final WriteOrder order;
    private final CompressedClusterReader compressed;
    private final ReentrantReadWriteLock ioLock = new ReentrantReadWriteLock();
    private final ReentrantLock metaLock = new ReentrantLock();

    private volatile Qcow2Header header;
    private L1Table l1;
    private ClusterAllocator allocator;
    private MetadataCache l2Cache;
    private MetadataClusters metadata;
    private volatile Optional<BlockDevice> backing = Optional.empty();
    private boolean dirtyMarked;
    private boolean closed;
    private long decompressedEntry = -1;
    private final byte[] decompressed;

    private Qcow2Image(ImageFile file, Qcow2Header header, boolean writable) throws IOException {
        this.file = file;
        this.path = file.path();
        this.header = header;
        this.geometry = header.geometry();
        this.clusterSize = geometry.clusterSize();
        this.sizeBytes = header.sizeBytes();
        this.writable = writable;
        this.order = new WriteOrder(file);
        this.compressed = new CompressedClusterReader(file, geometry, header.compressionType());
        this.decompressed = new byte[clusterSize];
        loadTables();
    }

    /** Opens the image on {@code file}; a dirty image opened for writing is repaired first. */
    static Qcow2Image open(ImageFile file, OpenOptions options) throws IOException {
        Qcow2Header header = Qcow2Header.read(file);
        Path path = file.path();
        boolean writable = options.writable();
        if (writable && header.nbSnapshots() > 0) {
            throw Errors.unsupported(
                    path,
                    "nb_snapshots",
                    header.nbSnapshots() + " internal snapshots: writing images with snapshots is not supported; "
                            + "open it read-only");
        }
        Qcow2Image image = new Qcow2Image(file, header, writable);
        if (writable) {
            image.prepareForWriting();
        }
        return image;
    }

    private void loadTables() throws IOException {
        long fileSize = file.sizeBytes();
        l1 = L1Table.read(file, header, fileSize);
        RefcountTable refcountTable = RefcountTable.read(file, header, fileSize);
        metadata = mapMetadata(refcountTable);
        allocator = new ClusterAllocator(
                file, geometry, order, refcountTable, fileSize, metadata, this::refcountTableMoved);
        MetadataCache.Barrier l2Barrier = header.lazyRefcounts()
                ? order::barrier
                : () -> {
                    allocator.flush();
                    order.barrier();
                };
        l2Cache = new MetadataCache(file, order, clusterSize, L2_CACHE_BYTES, l2Barrier);
    }

    /** Marks every metadata cluster, refusing tables that overlap each other. */
    private MetadataClusters mapMetadata(RefcountTable refcountTable) throws IOException {
        MetadataClusters map = new MetadataClusters(geometry.clusterBits());
        map.mark(0, clusterSize);
        map.mark(header.l1TableOffset(), l1.size() * 8L);
        map.mark(header.refcountTableOffset(), header.refcountTableBytes());
        for (int i = 0; i < refcountTable.size(); i++) {
            long block = refcountTable.blockOffset(i);
            if (block != 0 && !map.mark(block, clusterSize)) {
                throw Errors.malformed(
                        path, "refcount table entry " + i, "refcount block at " + block + " overlaps other metadata");
            }
        }
        for (int i = 0; i < l1.size(); i++) {
            long l2Offset = l1.entry(i) & L1Table.OFFSET_MASK;
            if (l2Offset != 0 && !map.mark(l2Offset, clusterSize)) {
                throw Errors.malformed(path, "L1 entry " + i, "L2 table at " + l2Offset + " overlaps other metadata");
            }
        }
        return map;
    }

    private void prepareForWriting() throws IOException {
        if (header.autoclearFeatures() != 0) {
            // Siphon maintains none of the auto-clear features (bitmaps, raw external data)
            LOG.info("{}: clearing auto-clear feature bits {}", path, Errors.hex(header.autoclearFeatures()));
            writeHeader(header.withAutoclearFeatures(0));
        }
        if (header.isDirty() && !header.isCorrupt()) {
            LOG.info("{}: image is dirty; rebuilding refcounts", path);
            CheckReport report = new Qcow2Checker(this).run(RepairMode.ALL);
            LOG.info("{}: repaired {} corruptions and {} leaks", path, report.corruptionsFixed(), report.leaksFixed());
            writeHeader(header.withIncompatibleFeatures(header.incompatibleFeatures() & ~Qcow2Header.INCOMPAT_DIRTY));
        }
    }

    // ---- accessors for the checker and the creator

    ImageFile file() {
        return file;
    }

    Geometry geometry() {
        return geometry;
    }

    Qcow2Header header() {
        return header;
    }

    L1Table l1() {
        return l1;
    }

    ClusterAllocator allocator() {
        return allocator;
    }

    MetadataCache l2Cache() {
        return l2Cache;
    }

    WriteOrder order() {
        return order;
    }

    CompressedClusterReader compressed() {
        return compressed;
    }

    /** Runs {@code action} alone, with the metadata lock held. */
    <T> T exclusively(IoAction<T> action) throws IOException {
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

    interface IoAction<T> {
        T run() throws IOException;
    }

    /** Writes the header durably and makes it current. */
    void writeHeader(Qcow2Header updated) throws IOException {
        byte[] encoded = updated.encode(path);
        order.barrier();
        file.writeFully(0, ByteBuffer.wrap(encoded, 0, Math.min(encoded.length, clusterSize)));
        file.flush();
        header = updated;
    }

    private void refcountTableMoved(long offset, int clusters) throws IOException {
        writeHeader(header.withRefcountTable(offset, clusters));
    }

    /** After the checker rebuilt the refcount structures on disk: reload them. */
    void reloadAfterRebuild(Qcow2Header rebuilt) throws IOException {
        writeHeader(rebuilt);
        loadTables();
    }

    /** Gives a new image of {@code newSizeBytes} its (zeroed) L1 table. Used by create only. */
    void initializeL1(long newSizeBytes) throws IOException {
        exclusively(() -> {
            long entries = geometry.l1EntriesFor(newSizeBytes);
            if (entries * 8 > Qcow2Header.MAX_L1_BYTES) {
                throw Errors.refused(path, "size", newSizeBytes + " bytes need an L1 table larger than 32 MiB");
            }
            long offset = 0;
            if (entries > 0) {
                long bytes = entries * 8;
                offset = allocator.allocate(geometry.clustersFor(bytes));
                writeZeroBytes(offset, geometry.clustersFor(bytes) * clusterSize);
            }
            allocator.flush();
            order.wrote();
            order.barrier();
            Qcow2Header sized = new Qcow2Header(
                    header.version(),
                    header.clusterBits(),
                    newSizeBytes,
                    0,
                    (int) entries,
                    offset,
                    header.refcountTableOffset(),
                    header.refcountTableClusters(),
                    0,
                    0,
                    header.incompatibleFeatures(),
                    header.compatibleFeatures(),
                    0,
                    header.refcountOrder(),
                    header.additionalFields(),
                    header.backingFile(),
                    header.backingFormat(),
                    header.otherExtensions());
            writeHeader(sized);
            return null;
        });
    }

    private void writeZeroBytes(long offset, long bytes) throws IOException {
        long done = 0;
        while (done < bytes) {
            int n = (int) Math.min(ZEROES.length, bytes - done);
            file.writeFully(offset + done, ByteBuffer.wrap(ZEROES, 0, n));
            done += n;
        }
    }

    // ---- mapping

    /** The run of same-kind clusters at {@code guestOffset}, at most {@code maxLength} long. Hold metaLock. */
    Mapping map(long guestOffset, long maxLength) throws IOException {
        long guestCluster = guestOffset >>> geometry.clusterBits();
        int l2Entries = geometry.l2Entries();
        int l1Index = (int) (guestCluster / l2Entries);
        int l2Index = (int) (guestCluster % l2Entries);
        long tableEnd = ((long) (l1Index + 1) * l2Entries) << geometry.clusterBits();
        long limit = Math.min(guestOffset + maxLength, tableEnd);
        long l2Offset = l1.entry(l1Index) & L1Table.OFFSET_MASK;
        if (l2Offset == 0) {
            return new Mapping(L2Entry.Kind.UNALLOCATED, guestOffset, limit - guestOffset, -1, 0);
        }
        ByteBuffer table = l2Cache.get(l2Offset);
        long first = table.getLong(l2Index * 8);
        L2Entry.Kind kind = L2Entry.kind(first);
        validate(first, kind, l2Offset, l2Index);
        boolean hasHost = kind == L2Entry.Kind.DATA || kind == L2Entry.Kind.ZERO_ALLOC;
        long end = Math.min(limit, geometry.clusterOffset(guestOffset) + clusterSize);
        if (kind != L2Entry.Kind.COMPRESSED) {
            for (int i = l2Index + 1; end < limit; i++) {
                long next = table.getLong(i * 8);
                if (L2Entry.kind(next) != kind) {
                    break;
                }
                if (hasHost
                        && (L2Entry.offset(next) != L2Entry.offset(first) + (long) (i - l2Index) * clusterSize
                                || L2Entry.copied(next) != L2Entry.copied(first))) {
                    break;
                }
                validate(next, kind, l2Offset, i);
                end = Math.min(limit, end + clusterSize);
            }
        }
        long host = hasHost ? L2Entry.offset(first) + geometry.offsetInCluster(guestOffset) : -1;
        return new Mapping(kind, guestOffset, end - guestOffset, host, first);
    }

    private void validate(long entry, L2Entry.Kind kind, long l2Offset, int index) throws IOException {
        String field = "L2 entry " + index + " of the table at " + l2Offset;
        if (kind == L2Entry.Kind.UNALLOCATED && L2Entry.copied(entry)) {
            throw Errors.malformed(path, field, Errors.hex(entry) + " has host offset 0 (the header)");
        }
        if (kind != L2Entry.Kind.DATA && kind != L2Entry.Kind.ZERO_ALLOC) {
            return;
        }
        long host = L2Entry.offset(entry);
        if ((host & (clusterSize - 1)) != 0) {
            throw Errors.malformed(path, field, "host offset " + host + " is not cluster-aligned");
        }
        if (host < clusterSize || host >= allocator.fileEnd()) {
            throw Errors.malformed(
                    path, field, "host offset " + host + " is in the header or past the end of the file");
        }
        if (metadata.contains(host)) {
            throw Errors.malformed(path, field, "host offset " + host + " overlaps the image's metadata");
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
        Checked.requireWithin(offsetBytes, dst.remaining(), sizeBytes);
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
                case ZERO_PLAIN, ZERO_ALLOC -> fillZero(part);
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
            return map(offset, length);
        } finally {
            metaLock.unlock();
        }
    }

    private void readBacking(long offset, ByteBuffer part) throws IOException {
        Optional<BlockDevice> below = backing;
        long available = below.isPresent() ? Math.max(0, below.get().sizeBytes() - offset) : 0;
        int fromBacking = (int) Math.min(part.remaining(), available);
        if (fromBacking > 0) {
            below.get().read(offset, part.slice(0, fromBacking));
        }
        fillZero(part.slice(fromBacking, part.remaining() - fromBacking));
    }

    private void readCompressed(Mapping m, ByteBuffer part) throws IOException {
        metaLock.lock();
        try {
            if (decompressedEntry != m.entry()) {
                decompressedEntry = -1;
                compressed.read(m.entry(), allocator.fileEnd(), decompressed);
                decompressedEntry = m.entry();
            }
            part.put(decompressed, geometry.offsetInCluster(m.guestOffset()), part.remaining());
        } finally {
            metaLock.unlock();
        }
    }

    private static void fillZero(ByteBuffer part) {
        while (part.hasRemaining()) {
            part.put(ZEROES, 0, Math.min(ZEROES.length, part.remaining()));
        }
    }

    // ---- write

    @Override
    public void write(long offsetBytes, ByteBuffer src, Set<RequestFlag> flags) throws IOException {
        requireWritable();
        Checked.requireWithin(offsetBytes, src.remaining(), sizeBytes);
        long offset = offsetBytes;
        ioLock.readLock().lock();
        try {
            ensureOpen();
            while (src.hasRemaining()) {
                Mapping m = lookup(offset, src.remaining());
                if (!m.writableInPlace()) {
                    break;
                }
                offset += writeInPlace(m, src);
            }
        } finally {
            ioLock.readLock().unlock();
        }
        if (src.hasRemaining()) {
            long from = offset;
            exclusively(() -> {
                markDirtyIfLazy();
                long at = from;
                while (src.hasRemaining()) {
                    Mapping m = map(at, src.remaining());
                    at += m.writableInPlace() ? writeInPlace(m, src) : allocateAndWrite(m, src);
                }
                return null;
            });
        }
        if (flags.contains(RequestFlag.FUA)) {
            flush();
        }
    }

    private int writeInPlace(Mapping m, ByteBuffer src) throws IOException {
        int n = (int) m.length();
        ByteBuffer part = src.slice(src.position(), n);
        file.writeFully(m.hostOffset(), part);
        order.wrote();
        src.position(src.position() + n);
        return n;
    }

    /**
     * Writes {@code src} over the clusters of {@code m} into newly allocated clusters, filling the
     * parts of the first and last cluster that the write does not cover with what the guest read
     * there before (backing data, zeroes or the old cluster: copy-on-write), then points the L2
     * entries at them and frees what they pointed to. Returns the guest bytes written.
     */
    private long allocateAndWrite(Mapping m, ByteBuffer src) throws IOException {
        long start = m.guestOffset();
        long firstCluster = geometry.clusterOffset(start);
        long runEnd = Math.min(m.end(), firstCluster + Math.max(clusterSize, MAX_ALLOCATION_RUN_BYTES));
        long end = Math.min(start + src.remaining(), runEnd);
        long lastClusterEnd = geometry.clusterOffset(end - 1) + clusterSize;
        long clusters = (lastClusterEnd - firstCluster) / clusterSize;
        int l1Index = (int) ((firstCluster >>> geometry.clusterBits()) / geometry.l2Entries());
        long l2Offset = ensureL2Table(l1Index);
        long host = allocator.allocate(clusters);

        int length = (int) (end - start);
        ByteBuffer data = src.slice(src.position(), length);
        long headGap = start - firstCluster;
        long tailGap = lastClusterEnd - end;
        if (clusters == 1 && (headGap > 0 || tailGap > 0)) {
            byte[] cluster = oldCluster(firstCluster);
            data.get(cluster, (int) headGap, length);
            file.writeFully(host, ByteBuffer.wrap(cluster));
        } else {
            int headBytes = 0;
            if (headGap > 0) {
                byte[] cluster = oldCluster(firstCluster);
                headBytes = (int) (clusterSize - headGap);
                data.get(cluster, (int) headGap, headBytes);
                file.writeFully(host, ByteBuffer.wrap(cluster));
            }
            int tailBytes = tailGap > 0 ? (int) (clusterSize - tailGap) : 0;
            ByteBuffer middle = data.slice(headBytes, length - headBytes - tailBytes);
            file.writeFully(host + (headGap > 0 ? clusterSize : 0), middle);
            if (tailGap > 0) {
                byte[] cluster = oldCluster(lastClusterEnd - clusterSize);
                data.get(length - tailBytes, cluster, 0, tailBytes);
                file.writeFully(host + (clusters - 1) * clusterSize, ByteBuffer.wrap(cluster));
            }
        }
        order.wrote();
        int firstIndex = (int) ((firstCluster >>> geometry.clusterBits()) % geometry.l2Entries());
        for (int i = 0; i < clusters; i++) {
            setL2Entry(l2Offset, firstIndex + i, host + (long) i * clusterSize | L2Entry.COPIED);
        }
        src.position(src.position() + length);
        freeIfNeeded();
        return length;
    }

    /** The guest cluster at {@code clusterOffset} as it reads now (the part inside the disk; zeroes past it). */
    private byte[] oldCluster(long clusterOffset) throws IOException {
        byte[] cluster = new byte[clusterSize];
        int inside = (int) Math.min(clusterSize, sizeBytes - clusterOffset);
        readGuest(clusterOffset, ByteBuffer.wrap(cluster, 0, inside));
        return cluster;
    }

    /** The L2 table for {@code l1Index}, allocated (zeroed) if absent. Hold both locks. */
    private long ensureL2Table(int l1Index) throws IOException {
        long entry = l1.entry(l1Index);
        long l2Offset = entry & L1Table.OFFSET_MASK;
        if (l2Offset != 0) {
            if ((entry & L1Table.COPIED) == 0) {
                if (allocator.refcount(l2Offset >>> geometry.clusterBits()) != 1) {
                    throw Errors.unsupported(
                            path,
                            "L1 entry " + l1Index,
                            "L2 table at " + l2Offset + " is shared (needs copy-on-write)");
                }
                l1.set(l1Index, entry | L1Table.COPIED);
            }
            return l2Offset;
        }
        l2Offset = allocator.allocate(1);
        metadata.mark(l2Offset, clusterSize);
        l2Cache.create(l2Offset);
        l1.set(l1Index, l2Offset | L1Table.COPIED);
        return l2Offset;
    }

    /** Sets an L2 entry, queueing the free of host clusters the old entry referenced and the new one does not. */
    private void setL2Entry(long l2Offset, int index, long newEntry) throws IOException {
        ByteBuffer table = l2Cache.get(l2Offset);
        long old = table.getLong(index * 8);
        if (old == newEntry) {
            return;
        }
        table.putLong(index * 8, newEntry);
        l2Cache.markDirty(l2Offset);
        switch (L2Entry.kind(old)) {
            case DATA, ZERO_ALLOC -> {
                boolean kept = L2Entry.offset(newEntry) == L2Entry.offset(old)
                        && L2Entry.kind(newEntry) != L2Entry.Kind.COMPRESSED;
                if (!kept) {
                    allocator.free(L2Entry.offset(old), clusterSize);
                }
            }
            case COMPRESSED -> {
                long sectorStart = compressed.hostOffset(old) & ~511L;
                allocator.free(sectorStart, compressed.hostOffset(old) + compressed.storedBytes(old) - sectorStart);
            }
            default -> {}
        }
    }

    private void freeIfNeeded() throws IOException {
        if (allocator.pendingFreeClusters() > MAX_PENDING_FREES) {
            flushLocked();
        }
    }

    // ---- zeroes and discard

    /** What a whole-cluster update does to one L2 entry. */
    private interface EntryUpdate {
        long apply(long entry);
    }

    /** Applies {@code update} to every L2 entry of the whole clusters in {@code [start, end)}. Hold both locks. */
    private void updateClusters(long start, long end, EntryUpdate update) throws IOException {
        long cluster = start;
        while (cluster < end) {
            long guestCluster = cluster >>> geometry.clusterBits();
            int l1Index = (int) (guestCluster / geometry.l2Entries());
            int index = (int) (guestCluster % geometry.l2Entries());
            long tableEnd = Math.min(end, ((long) (l1Index + 1) * geometry.l2Entries()) << geometry.clusterBits());
            long l2Offset = l1.entry(l1Index) & L1Table.OFFSET_MASK;
            if (l2Offset == 0 && update.apply(0) == 0) {
                cluster = tableEnd;
                continue;
            }
            l2Offset = ensureL2Table(l1Index);
            for (; cluster < tableEnd; cluster += clusterSize, index++) {
                long old = l2Cache.get(l2Offset).getLong(index * 8);
                setL2Entry(l2Offset, index, update.apply(old));
            }
            freeIfNeeded();
        }
    }

    @Override
    public void writeZeroes(long offsetBytes, long lengthBytes, Set<RequestFlag> flags) throws IOException {
        requireWritable();
        Checked.requireWithin(offsetBytes, lengthBytes, sizeBytes);
        if (lengthBytes == 0) {
            return;
        }
        boolean mayUnmap = flags.contains(RequestFlag.MAY_UNMAP);
        boolean noFallback = flags.contains(RequestFlag.NO_FALLBACK);
        exclusively(() -> {
            long end = offsetBytes + lengthBytes;
            long wholeStart = alignUpToCluster(offsetBytes);
            long wholeEnd = end == sizeBytes ? alignUpToCluster(end) : geometry.clusterOffset(end);
            List<long[]> partial = new ArrayList<>();
            if (wholeStart >= wholeEnd) {
                // no whole cluster: the range touches one or two clusters, each partly
                for (long at = offsetBytes; at < end; ) {
                    long pieceEnd = Math.min(end, geometry.clusterOffset(at) + clusterSize);
                    partial.add(new long[] {at, pieceEnd});
                    at = pieceEnd;
                }
                wholeStart = wholeEnd = end;
            } else {
                if (offsetBytes < wholeStart) {
                    partial.add(new long[] {offsetBytes, wholeStart});
                }
                if (wholeEnd < end) {
                    partial.add(new long[] {wholeEnd, end});
                }
            }
            List<long[]> slow = new ArrayList<>();
            for (long[] range : partial) {
                if (!readsAsZero(range[0])) {
                    slow.add(range);
                }
            }
            boolean zeroFlag = header.version() >= 3;
            boolean wholeSlow = !zeroFlag && hasBacking() && wholeStart < wholeEnd;
            if (noFallback && (wholeSlow || !slow.isEmpty())) {
                throw new FastZeroUnsupportedException(
                        path + ": zeroing " + lengthBytes + " bytes at " + offsetBytes + " would need writing zeroes");
            }
            markDirtyIfLazy();
            if (wholeSlow) {
                slow.add(new long[] {wholeStart, Math.min(wholeEnd, sizeBytes)});
            } else if (wholeStart < wholeEnd) {
                updateClusters(wholeStart, wholeEnd, old -> zeroedEntry(old, mayUnmap, zeroFlag));
            }
            for (long[] range : slow) {
                writeZeroData(range[0], range[1]);
            }
            return null;
        });
        if (flags.contains(RequestFlag.FUA)) {
            flush();
        }
    }

    private long alignUpToCluster(long offset) {
        return geometry.clusterOffset(offset + clusterSize - 1);
    }

    private static long zeroedEntry(long old, boolean mayUnmap, boolean zeroFlag) {
        if (!zeroFlag) {
            return 0; // version 2 without a backing: unallocated clusters read as zeroes
        }
        L2Entry.Kind kind = L2Entry.kind(old);
        if (!mayUnmap && (kind == L2Entry.Kind.DATA || kind == L2Entry.Kind.ZERO_ALLOC) && L2Entry.copied(old)) {
            return L2Entry.offset(old) | L2Entry.COPIED | L2Entry.ZERO;
        }
        return L2Entry.ZERO;
    }

    /** Whether the whole guest cluster holding {@code offset} reads as zeroes without looking at data. */
    private boolean readsAsZero(long offset) throws IOException {
        long cluster = geometry.clusterOffset(offset);
        Mapping m = map(cluster, Math.min(clusterSize, sizeBytes - cluster));
        return switch (m.kind()) {
            case ZERO_PLAIN, ZERO_ALLOC -> true;
            case UNALLOCATED -> backing.map(b -> b.sizeBytes() <= cluster).orElse(!hasBacking());
            default -> false;
        };
    }

    /** Whether unallocated clusters may read something other than zeroes (named or attached backing). */
    private boolean hasBacking() {
        return backing.isPresent() || header.backingFile().isPresent();
    }

    private void writeZeroData(long start, long end) throws IOException {
        long at = start;
        while (at < end) {
            int n = (int) Math.min(ZEROES.length, end - at);
            ByteBuffer zeroes = ByteBuffer.wrap(ZEROES, 0, n).asReadOnlyBuffer();
            while (zeroes.hasRemaining()) {
                Mapping m = map(at, zeroes.remaining());
                at += m.writableInPlace() ? writeInPlace(m, zeroes) : allocateAndWrite(m, zeroes);
            }
        }
    }

    @Override
    public void discard(long offsetBytes, long lengthBytes) throws IOException {
        requireWritable();
        Checked.requireWithin(offsetBytes, lengthBytes, sizeBytes);
        if (lengthBytes == 0) {
            return;
        }
        exclusively(() -> {
            long end = offsetBytes + lengthBytes;
            long wholeStart = alignUpToCluster(offsetBytes);
            long wholeEnd = end == sizeBytes ? alignUpToCluster(end) : geometry.clusterOffset(end);
            if (wholeStart >= wholeEnd) {
                return null;
            }
            markDirtyIfLazy();
            boolean zeroFlag = header.version() >= 3;
            boolean hasBacking = hasBacking();
            // QEMU's rule: a discarded cluster reads as zeroes on v3 (the backing must not show
            // through); v2 has no zero flag, so the cluster becomes unallocated.
            updateClusters(wholeStart, wholeEnd, old -> {
                L2Entry.Kind kind = L2Entry.kind(old);
                boolean allocated =
                        kind == L2Entry.Kind.DATA || kind == L2Entry.Kind.ZERO_ALLOC || kind == L2Entry.Kind.COMPRESSED;
                if (!hasBacking && !allocated) {
                    return old;
                }
                return zeroFlag ? L2Entry.ZERO : 0;
            });
            return null;
        });
    }

    // ---- flush and close

    @Override
    public void flush() throws IOException {
        if (!writable) {
            return;
        }
        exclusively(() -> {
            flushLocked();
            return null;
        });
    }

    /**
     * Writes everything back in dependency order: refcount raises; barrier (data and refcounts
     * durable); L2 tables; barrier; L1 entries; barrier; then the queued refcount decrements, whose
     * references are now durably gone; barrier.
     */
    void flushLocked() throws IOException {
        allocator.flush();
        order.barrier();
        l2Cache.flush();
        if (l1.isDirty()) {
            order.barrier();
            l1.writeDirty(file);
            order.wrote();
        }
        order.barrier();
        if (allocator.pendingFreeClusters() > 0) {
            allocator.applyPendingFrees();
            allocator.flush();
            order.barrier();
        }
    }

    private void markDirtyIfLazy() throws IOException {
        if (header.lazyRefcounts() && !dirtyMarked) {
            writeHeader(header.withIncompatibleFeatures(header.incompatibleFeatures() | Qcow2Header.INCOMPAT_DIRTY));
            dirtyMarked = true;
        }
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
                    flushLocked();
                    if (dirtyMarked) {
                        writeHeader(header.withIncompatibleFeatures(
                                header.incompatibleFeatures() & ~Qcow2Header.INCOMPAT_DIRTY));
                    }
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
        Checked.requireWithin(offsetBytes, lengthBytes, sizeBytes);
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
                Extent next = switch (m.kind()) {
                    case DATA -> new Extent(at, m.length(), Allocation.DATA, m.hostOffset());
                    case COMPRESSED -> new Extent(at, m.length(), Allocation.DATA);
                    case ZERO_ALLOC -> new Extent(at, m.length(), Allocation.ZERO, m.hostOffset());
                    case ZERO_PLAIN -> new Extent(at, m.length(), Allocation.ZERO);
                    case UNALLOCATED -> new Extent(at, m.length(), Allocation.UNALLOCATED);
                };
                append(extents, next);
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
        Qcow2Header current = header;
        return current.backingFile().map(name -> new BackingReference(name, current.backingFormat()));
    }

    @Override
    public void attachBacking(Optional<? extends BlockDevice> backing) {
        this.backing = backing.map(b -> (BlockDevice) b);
    }

    @Override
    public Optional<BlockDevice> backing() {
        return backing;
    }

    @Override
    public void changeBackingReference(Optional<BackingReference> reference) throws IOException {
        requireWritable();
        exclusively(() -> {
            Qcow2Header updated = header.withBacking(
                    reference.map(BackingReference::name), reference.flatMap(BackingReference::format));
            writeHeader(updated);
            return null;
        });
    }

    @Override
    public ImageInfo info() throws IOException {
        Qcow2Header current = header;
        Map<String, Object> specific = new LinkedHashMap<>();
        specific.put("compat", current.version() == 2 ? "0.10" : "1.1");
        specific.put("compression-type", current.compressionType() == Qcow2Header.COMPRESSION_ZSTD ? "zstd" : "zlib");
        if (current.version() >= 3) {
            specific.put("lazy-refcounts", current.lazyRefcounts());
        }
        specific.put("refcount-bits", geometry.refcountBits());
        if (current.version() >= 3) {
            specific.put("corrupt", current.isCorrupt());
            specific.put("extended-l2", (current.incompatibleFeatures() & Qcow2Header.INCOMPAT_EXTENDED_L2) != 0);
        }
        return new ImageInfo(
                Qcow2Format.NAME,
                path,
                sizeBytes,
                OptionalInt.of(clusterSize),
                backingReference(),
                current.isDirty(),
                specific,
                OptionalLong.of(file.allocatedBytes()));
    }

    @Override
    public CheckReport check(RepairMode mode) throws IOException {
        if (mode != RepairMode.NONE) {
            requireWritableFile();
        }
        return exclusively(() -> {
            if (writable) {
                flushLocked();
            }
            return new Qcow2Checker(this).run(mode);
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

    private void requireWritable() throws IOException {
        requireWritableFile();
        if (header.isCorrupt()) {
            throw Errors.refused(
                    path, "incompatible_features", "image is marked corrupt; repair it (check -r all) before writing");
        }
    }
}
