package io.siphon.format.qcow2;

import io.siphon.block.BlockDevice;
import io.siphon.block.FastZeroUnsupportedException;
import io.siphon.util.Alignment;
import io.siphon.util.CrashPoints;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Guest offset to host offset through the L1 and L2 tables, and every change of that mapping:
 * allocating writes with copy-on-write, L2 updates with the frees they queue, zeroing and discard,
 * and the copy of clusters and L2 tables an internal snapshot shares (QEMU's qcow2-cluster.c; the twin of QED's cluster map). It is handed what it needs from above:
 * a {@link GuestReader} for the old content of a partly written cluster, and the attached backing.
 *
 * <p>Not thread-safe: {@link #map} runs under the image's metadata lock; the changes run with the
 * image's I/O lock held exclusively as well. {@link #writeInPlace} needs only the I/O lock shared.
 */
final class Qcow2ClusterMap {
    private static final long MAX_ALLOCATION_RUN_BYTES = 32L << 20;
    private static final long MAX_PENDING_FREES = 1 << 16;

    /** Reads guest bytes as the image presents them now (backing data, zeroes, old clusters). */
    interface GuestReader {
        void read(long guestOffset, ByteBuffer dst) throws IOException;
    }

    /** An L2 entry and its subcluster bitmap (0 for standard entries). */
    private record Slot(long entry, long bitmap) {
        static final Slot EMPTY = new Slot(0, 0);
    }

    /** What a whole-cluster update does to one L2 entry. */
    private interface EntryUpdate {
        Slot apply(Slot old);
    }

    private final Qcow2Metadata metadata;
    private final CopyOnWrite copyOnWrite;
    private final Path path;
    private final Geometry geometry;
    private final int clusterSize;
    private final long sizeBytes;
    private final CompressedClusterPacker packer;
    private volatile Optional<BlockDevice> backing = Optional.empty();

    Qcow2ClusterMap(Qcow2Metadata metadata, long sizeBytes, GuestReader oldContent) {
        this.metadata = metadata;
        this.copyOnWrite = new CopyOnWrite(metadata.file(), metadata.geometry(), sizeBytes, oldContent);
        this.path = metadata.path();
        this.geometry = metadata.geometry();
        this.clusterSize = geometry.clusterSize();
        this.sizeBytes = sizeBytes;
        this.packer = new CompressedClusterPacker(geometry);
    }

    /** The device unallocated clusters read from, if one is attached; safe to call without a lock. */
    Optional<BlockDevice> backing() {
        return backing;
    }

    void attachBacking(Optional<BlockDevice> device) {
        this.backing = device;
    }

    // ---- mapping

    /** The run of same-kind clusters at {@code guestOffset}, at most {@code maxLength} long. */
    Mapping map(long guestOffset, long maxLength) throws IOException {
        long guestCluster = guestOffset >>> geometry.clusterBits();
        int l2Entries = geometry.l2Entries();
        int l1Index = (int) (guestCluster / l2Entries);
        int l2Index = (int) (guestCluster % l2Entries);
        long tableEnd = ((long) (l1Index + 1) * l2Entries) << geometry.clusterBits();
        long limit = Math.min(guestOffset + maxLength, tableEnd);
        long l2Offset = metadata.l1().entry(l1Index) & L1Table.OFFSET_MASK;
        if (l2Offset == 0) {
            return new Mapping(L2Entry.Kind.UNALLOCATED, guestOffset, limit - guestOffset, -1, 0);
        }
        ByteBuffer table = metadata.l2Cache().get(l2Offset);
        if (geometry.extendedL2()) {
            return mapSubclusters(table, l2Offset, l2Index, guestOffset, limit);
        }
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

    /**
     * {@link #map} with extended L2 entries: the run of subclusters of one kind from {@code
     * guestOffset} (to {@code limit}, inside the table), crossing clusters while the host offsets
     * continue. An unallocated subcluster of a cluster with a host offset carries that offset, so
     * that a write can fill it in place.
     */
    private Mapping mapSubclusters(ByteBuffer table, long l2Offset, int l2Index, long guestOffset, long limit)
            throws IOException {
        int subclusterSize = geometry.subclusterSize();
        L2Entry.Kind kind = null;
        long firstEntry = 0;
        long firstHost = -1;
        long end = guestOffset;
        for (int i = l2Index; end < limit; i++) {
            long entry = L2Entry.read(table, geometry, i);
            long bitmap = L2Entry.bitmap(table, geometry, i);
            L2Entry.Kind cluster = L2Entry.kind(entry, true);
            validate(entry, cluster, l2Offset, i);
            validateBitmap(entry, bitmap, l2Offset, i);
            long clusterStart = geometry.clusterOffset(end);
            long clusterEnd = Math.min(limit, clusterStart + clusterSize);
            if (cluster == L2Entry.Kind.COMPRESSED) {
                if (kind != null) {
                    break;
                }
                return new Mapping(cluster, guestOffset, clusterEnd - guestOffset, -1, entry);
            }
            boolean uniform = bitmap == 0 || bitmap == L2Entry.ALL_ZEROES || bitmap == L2Entry.ALL_ALLOCATED;
            while (end < clusterEnd) {
                L2Entry.Kind k = L2Entry.subclusterKind(entry, bitmap, geometry.subclusterIndex(end));
                long host = cluster == L2Entry.Kind.DATA ? L2Entry.offset(entry) + (end - clusterStart) : -1;
                if (kind == null) {
                    kind = k;
                    firstEntry = entry;
                    firstHost = host;
                } else if (k != kind
                        || (host < 0) != (firstHost < 0)
                        || (host >= 0 && host != firstHost + (end - guestOffset))
                        || L2Entry.copied(entry) != L2Entry.copied(firstEntry)) {
                    return new Mapping(kind, guestOffset, end - guestOffset, firstHost, firstEntry);
                }
                end = uniform ? clusterEnd : Math.min(clusterEnd, (end | (subclusterSize - 1)) + 1);
            }
        }
        return new Mapping(kind, guestOffset, end - guestOffset, firstHost, firstEntry);
    }

    private void validateBitmap(long entry, long bitmap, long l2Offset, int index) throws IOException {
        var problem = L2Entry.bitmapProblem(entry, bitmap);
        if (problem.isPresent()) {
            throw Errors.malformed(
                    path,
                    "L2 entry " + index + " of the table at " + l2Offset,
                    problem.get() + ": entry " + Errors.hex(entry) + ", bitmap " + Errors.hex(bitmap));
        }
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
        if (host < clusterSize || host >= metadata.allocator().fileEnd()) {
            throw Errors.malformed(
                    path, field, "host offset " + host + " is in the header or past the end of the file");
        }
        if (metadata.clusters().contains(host)) {
            throw Errors.malformed(path, field, "host offset " + host + " overlaps the image's metadata");
        }
    }

    // ---- writes

    /** Writes the start of {@code src} over {@code m}, which is {@link Mapping#writableInPlace}; returns the bytes. */
    int writeInPlace(Mapping m, ByteBuffer src) throws IOException {
        int n = (int) m.length();
        ByteBuffer part = src.slice(src.position(), n);
        metadata.file().writeFully(m.hostOffset(), part);
        metadata.order().wrote();
        src.position(src.position() + n);
        return n;
    }

    /** Writes all of {@code src} at guest {@code offset}, allocating clusters where needed. */
    void write(long offset, ByteBuffer src) throws IOException {
        metadata.markDirtyIfLazy();
        writeFrom(offset, src);
    }

    /** Writes all of {@code src} from guest {@code at}, each run as its mapping allows; the guest offset after it. */
    private long writeFrom(long at, ByteBuffer src) throws IOException {
        while (src.hasRemaining()) {
            Mapping m = map(at, src.remaining());
            if (m.writableInPlace()) {
                at += writeInPlace(m, src);
            } else if (fillableInPlace(m)) {
                at += fillSubclusters(m, src);
            } else {
                at += allocateAndWrite(m, src);
            }
        }
        return at;
    }

    /** Subclusters not holding data yet in a cluster this image alone owns: written where they lie. */
    private boolean fillableInPlace(Mapping m) {
        return geometry.extendedL2()
                && m.hostOffset() >= 0
                && L2Entry.copied(m.entry())
                && (m.kind() == L2Entry.Kind.UNALLOCATED || m.kind() == L2Entry.Kind.ZERO_ALLOC);
    }

    /**
     * Writes the start of {@code src} into the unallocated or zero subclusters of {@code m} (inside
     * one cluster), padded to whole subclusters with what they read now, then marks them allocated:
     * no data moves (QEMU's handle_copied with subclusters). Returns the guest bytes written.
     */
    private long fillSubclusters(Mapping m, ByteBuffer src) throws IOException {
        long start = m.guestOffset();
        long clusterStart = geometry.clusterOffset(start);
        long clusterEnd = clusterStart + clusterSize;
        long end = Math.min(start + src.remaining(), Math.min(m.end(), clusterEnd));
        long from = Alignment.alignDown(start, geometry.subclusterSize());
        long to = Math.min(Alignment.alignUp(end, geometry.subclusterSize()), clusterEnd);
        int length = (int) (end - start);
        ByteBuffer data = src.slice(src.position(), length);
        metadata.file().writeFully(m.hostOffset() - (start - from), copyOnWrite.piece(from, to, start, end, data));
        metadata.order().wrote();
        CrashPoints.reach("qcow2.data.written");
        long guestCluster = clusterStart >>> geometry.clusterBits();
        long l2Offset = ensureL2Table((int) (guestCluster / geometry.l2Entries()));
        int index = (int) (guestCluster % geometry.l2Entries());
        ByteBuffer table = metadata.l2Cache().get(l2Offset);
        long bitmap = L2Entry.bitmap(table, geometry, index);
        int first = geometry.subclusterIndex(from);
        int last = geometry.subclusterIndex(to - 1) + 1;
        setL2Entry(l2Offset, index, L2Entry.read(table, geometry, index), allocate(bitmap, first, last));
        src.position(src.position() + length);
        return length;
    }

    /** {@code bitmap} with subclusters {@code [first, last)} allocated (and no longer zero). */
    private static long allocate(long bitmap, int first, int last) {
        return (bitmap | L2Entry.allocatedRange(first, last)) & ~L2Entry.zeroRange(first, last);
    }

    /**
     * Writes {@code src} over the clusters of {@code m} into newly allocated clusters, filling the
     * parts of the first and last cluster that the write does not cover with what the guest read
     * there before (backing data, zeroes or the old cluster: copy-on-write), then points the L2
     * entries at them and frees what they pointed to. Returns the guest bytes written.
     *
     * <p>With extended L2 entries over clusters without a host cluster, the copy stops at the
     * subclusters the write touches; the rest of the new cluster stays unallocated (or zero), as
     * its bitmap says: copying less from the backing is what subclusters are for.
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
        long host = metadata.allocator().allocate(clusters);

        boolean bySubcluster = geometry.extendedL2() && m.hostOffset() < 0 && m.kind() != L2Entry.Kind.COMPRESSED;
        long cowStart = bySubcluster ? Alignment.alignDown(start, geometry.subclusterSize()) : firstCluster;
        long cowEnd = bySubcluster
                ? Math.min(Alignment.alignUp(end, geometry.subclusterSize()), lastClusterEnd)
                : lastClusterEnd;
        int length = (int) (end - start);
        copyOnWrite.write(host - firstCluster, cowStart, start, end, cowEnd, src.slice(src.position(), length));
        metadata.order().wrote();
        CrashPoints.reach("qcow2.data.written");
        int firstIndex = (int) ((firstCluster >>> geometry.clusterBits()) % geometry.l2Entries());
        for (int i = 0; i < clusters; i++) {
            long bitmap = 0;
            if (geometry.extendedL2()) {
                long clusterStart = firstCluster + (long) i * clusterSize;
                long from = Math.max(cowStart, clusterStart);
                long to = Math.min(cowEnd, clusterStart + clusterSize);
                long old =
                        bySubcluster ? L2Entry.bitmap(metadata.l2Cache().get(l2Offset), geometry, firstIndex + i) : 0;
                bitmap = allocate(old, geometry.subclusterIndex(from), geometry.subclusterIndex(to - 1) + 1);
            }
            setL2Entry(l2Offset, firstIndex + i, host + (long) i * clusterSize | L2Entry.COPIED, bitmap);
        }
        src.position(src.position() + length);
        freeIfNeeded();
        return length;
    }

    /**
     * Stores the guest cluster at {@code clusterOffset} as the {@code length} compressed bytes of
     * {@code data}: placed by the packer, written, then the L2 entry set (the flush writes the raised
     * refcounts before the L2 table). As QEMU, only a cluster that is not allocated yet can be
     * written compressed.
     */
    void writeCompressed(long clusterOffset, byte[] data, int length) throws IOException {
        Mapping m = map(clusterOffset, clusterSize);
        if (m.kind() == L2Entry.Kind.COMPRESSED || L2Entry.offset(m.entry()) != 0) {
            throw Errors.refused(
                    path, "guest offset " + clusterOffset, "a compressed write needs an unallocated cluster");
        }
        metadata.markDirtyIfLazy();
        long guestCluster = clusterOffset >>> geometry.clusterBits();
        long l2Offset = ensureL2Table((int) (guestCluster / geometry.l2Entries()));
        long host = packer.place(metadata.allocator(), length);
        metadata.file().writeFully(host, ByteBuffer.wrap(data, 0, length));
        metadata.order().wrote();
        CrashPoints.reach("qcow2.data.written");
        // a compressed cluster's bitmap is zero: the descriptor says it all
        setL2Entry(l2Offset, (int) (guestCluster % geometry.l2Entries()), packer.descriptor(host, length), 0);
        freeIfNeeded();
    }

    /**
     * Points the {@code clusters} guest clusters from {@code guestOffset} (inside one L2 table, not
     * allocated yet) at the host clusters from {@code host}, or, when {@code host} is negative, at
     * newly allocated ones after the L2 table (QEMU's order when preallocating); the first host offset.
     * Nothing is written to the data clusters: preallocation.
     */
    long linkRun(long guestOffset, long host, int clusters) throws IOException {
        long guestCluster = guestOffset >>> geometry.clusterBits();
        long l2Offset = ensureL2Table((int) (guestCluster / geometry.l2Entries()));
        long first = host >= 0 ? host : metadata.allocator().allocate(clusters);
        int index = (int) (guestCluster % geometry.l2Entries());
        for (int i = 0; i < clusters; i++) {
            // with subclusters, none allocated yet: they still read from the backing (QEMU's prealloc)
            setL2Entry(l2Offset, index + i, first + (long) i * clusterSize | L2Entry.COPIED, 0);
        }
        return first;
    }

    /**
     * The L2 table for {@code l1Index} that this image alone owns, so that its entries may change:
     * allocated (zeroed) if absent, copied if shared with a snapshot ({@link #copySharedL2Table}).
     */
    private long ensureL2Table(int l1Index) throws IOException {
        L1Table l1 = metadata.l1();
        ClusterAllocator allocator = metadata.allocator();
        long entry = l1.entry(l1Index);
        long l2Offset = entry & L1Table.OFFSET_MASK;
        if (l2Offset != 0) {
            if ((entry & L1Table.COPIED) == 0) {
                long refcount = allocator.refcount(l2Offset >>> geometry.clusterBits());
                if (refcount == 0) {
                    throw Errors.malformed(path, "L1 entry " + l1Index, "L2 table at " + l2Offset + " has refcount 0");
                }
                if (refcount > 1) {
                    return copySharedL2Table(l1Index, l2Offset);
                }
                l1.set(l1Index, entry | L1Table.COPIED);
            }
            return l2Offset;
        }
        l2Offset = allocator.allocate(1);
        metadata.clusters().mark(l2Offset, clusterSize);
        metadata.l2Cache().create(l2Offset);
        l1.set(l1Index, l2Offset | L1Table.COPIED);
        return l2Offset;
    }

    /**
     * Gives the active L1 entry {@code l1Index} its own copy of the L2 table at {@code shared}, which
     * a snapshot references too (QEMU's l2_allocate of a table without the "refcount is one" flag):
     * a new cluster with the same entries, "refcount is one" cleared where the data cluster is
     * shared. The data clusters keep their refcounts (each table still counts once); the copy is
     * written before the L1 entry naming it, and the old table's reference is dropped after, by the
     * flush stages. Returns the copy's offset.
     */
    private long copySharedL2Table(int l1Index, long shared) throws IOException {
        ClusterAllocator allocator = metadata.allocator();
        MetadataCache l2Cache = metadata.l2Cache();
        byte[] entries = new byte[clusterSize];
        l2Cache.get(shared).get(0, entries);
        long copyOffset = allocator.allocate(1);
        metadata.clusters().mark(copyOffset, clusterSize);
        ByteBuffer copy = l2Cache.create(copyOffset);
        copy.put(0, entries);
        for (int i = 0; i < geometry.l2Entries(); i++) {
            long entry = L2Entry.read(copy, geometry, i);
            L2Entry.Kind kind = L2Entry.kind(entry, geometry.extendedL2());
            boolean hasHost = kind == L2Entry.Kind.DATA || kind == L2Entry.Kind.ZERO_ALLOC;
            if (hasHost
                    && L2Entry.copied(entry)
                    && allocator.refcount(L2Entry.offset(entry) >>> geometry.clusterBits()) > 1) {
                copy = l2Cache.get(copyOffset); // a refcount lookup may have evicted it
                L2Entry.write(copy, geometry, i, entry & ~L2Entry.COPIED, L2Entry.bitmap(copy, geometry, i));
                l2Cache.markDirty(copyOffset);
            }
        }
        metadata.l1().set(l1Index, copyOffset | L1Table.COPIED);
        allocator.free(shared, clusterSize);
        return copyOffset;
    }

    /**
     * Sets an L2 entry and its bitmap (ignored for standard entries), queueing the free of host
     * clusters the old entry referenced and the new one does not.
     */
    private void setL2Entry(long l2Offset, int index, long newEntry, long newBitmap) throws IOException {
        MetadataCache l2Cache = metadata.l2Cache();
        ByteBuffer table = l2Cache.get(l2Offset);
        long old = L2Entry.read(table, geometry, index);
        if (old == newEntry && L2Entry.bitmap(table, geometry, index) == (geometry.extendedL2() ? newBitmap : 0)) {
            return;
        }
        L2Entry.write(table, geometry, index, newEntry, newBitmap);
        l2Cache.markDirty(l2Offset);
        ClusterAllocator allocator = metadata.allocator();
        switch (L2Entry.kind(old)) {
            case DATA, ZERO_ALLOC -> {
                boolean kept = L2Entry.offset(newEntry) == L2Entry.offset(old)
                        && L2Entry.kind(newEntry) != L2Entry.Kind.COMPRESSED;
                if (!kept) {
                    allocator.free(L2Entry.offset(old), clusterSize);
                }
            }
            case COMPRESSED -> {
                packer.forget(); // the host cluster it packs into may be freed at the next flush
                CompressedClusterReader compressed = metadata.compressed();
                long sectorStart = compressed.hostOffset(old) & ~511L;
                allocator.free(sectorStart, compressed.hostOffset(old) + compressed.storedBytes(old) - sectorStart);
            }
            default -> {}
        }
    }

    private void freeIfNeeded() throws IOException {
        if (metadata.allocator().pendingFreeClusters() > MAX_PENDING_FREES) {
            metadata.flush();
        }
    }

    // ---- zeroes and discard

    /** Applies {@code update} to every L2 entry of the whole clusters in {@code [start, end)}. */
    private void updateClusters(long start, long end, EntryUpdate update) throws IOException {
        long cluster = start;
        while (cluster < end) {
            long guestCluster = cluster >>> geometry.clusterBits();
            int l1Index = (int) (guestCluster / geometry.l2Entries());
            int index = (int) (guestCluster % geometry.l2Entries());
            long tableEnd = Math.min(end, ((long) (l1Index + 1) * geometry.l2Entries()) << geometry.clusterBits());
            long l2Offset = metadata.l1().entry(l1Index) & L1Table.OFFSET_MASK;
            if (l2Offset == 0 && update.apply(Slot.EMPTY).equals(Slot.EMPTY)) {
                cluster = tableEnd;
                continue;
            }
            l2Offset = ensureL2Table(l1Index);
            for (; cluster < tableEnd; cluster += clusterSize, index++) {
                ByteBuffer table = metadata.l2Cache().get(l2Offset);
                Slot old = new Slot(L2Entry.read(table, geometry, index), L2Entry.bitmap(table, geometry, index));
                Slot updated = update.apply(old);
                setL2Entry(l2Offset, index, updated.entry(), updated.bitmap());
            }
            freeIfNeeded();
        }
    }

    /**
     * Makes {@code [offset, offset + length)} read as zeroes: whole clusters through their L2
     * entries where the version allows, whole subclusters (extended L2 entries, not compressed)
     * through their bitmap, the rest by writing zeroes where they do not read as zeroes already.
     * With {@code noFallback}, fails before changing anything if zeroes would be written.
     */
    void writeZeroes(long offset, long length, boolean mayUnmap, boolean noFallback) throws IOException {
        long end = offset + length;
        UnitSplit clusters = UnitSplit.of(offset, end, clusterSize, sizeBytes);
        List<long[]> subclusters = new ArrayList<>();
        List<long[]> slow = new ArrayList<>();
        for (long[] piece : clusters.partial()) {
            List<long[]> pieces = List.<long[]>of(piece);
            if (geometry.extendedL2() && !isCompressed(piece[0])) {
                UnitSplit inCluster = UnitSplit.of(piece[0], piece[1], geometry.subclusterSize(), sizeBytes);
                if (inCluster.hasWhole()) {
                    subclusters.add(new long[] {inCluster.wholeStart(), inCluster.wholeEnd()});
                }
                pieces = inCluster.partial();
            }
            for (long[] p : pieces) {
                if (!readsAsZero(p[0])) {
                    slow.add(p);
                }
            }
        }
        boolean zeroFlag = metadata.header().version() >= 3;
        boolean wholeSlow = !zeroFlag && hasBacking() && clusters.hasWhole();
        if (noFallback && (wholeSlow || !slow.isEmpty())) {
            throw new FastZeroUnsupportedException(
                    path + ": zeroing " + length + " bytes at " + offset + " would need writing zeroes");
        }
        metadata.markDirtyIfLazy();
        if (wholeSlow) {
            slow.add(new long[] {clusters.wholeStart(), Math.min(clusters.wholeEnd(), sizeBytes)});
        } else if (clusters.hasWhole()) {
            updateClusters(clusters.wholeStart(), clusters.wholeEnd(), old -> zeroedSlot(old, mayUnmap, zeroFlag));
        }
        for (long[] range : subclusters) {
            zeroSubclusters(range[0], range[1]);
        }
        for (long[] range : slow) {
            writeZeroData(range[0], range[1]);
        }
    }

    private Slot zeroedSlot(Slot old, boolean mayUnmap, boolean zeroFlag) {
        if (!geometry.extendedL2()) {
            return new Slot(zeroedEntry(old.entry(), mayUnmap, zeroFlag), 0);
        }
        boolean keep = !mayUnmap && L2Entry.kind(old.entry(), true) == L2Entry.Kind.DATA && L2Entry.copied(old.entry());
        return new Slot(keep ? L2Entry.offset(old.entry()) | L2Entry.COPIED : 0, L2Entry.ALL_ZEROES);
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

    /**
     * Marks the subclusters of {@code [from, to)} (whole subclusters inside one cluster, not
     * compressed) as reading zeroes, no longer allocated; a host cluster stays where it is.
     */
    private void zeroSubclusters(long from, long to) throws IOException {
        long guestCluster = from >>> geometry.clusterBits();
        long l2Offset = ensureL2Table((int) (guestCluster / geometry.l2Entries()));
        int index = (int) (guestCluster % geometry.l2Entries());
        ByteBuffer table = metadata.l2Cache().get(l2Offset);
        int first = geometry.subclusterIndex(from);
        int last = geometry.subclusterIndex(to - 1) + 1;
        long bitmap = (L2Entry.bitmap(table, geometry, index) | L2Entry.zeroRange(first, last))
                & ~L2Entry.allocatedRange(first, last);
        setL2Entry(l2Offset, index, L2Entry.read(table, geometry, index), bitmap);
    }

    /** The L2 entry and bitmap of the guest cluster holding {@code offset}; empty without an L2 table. */
    private Slot slotAt(long offset) throws IOException {
        long guestCluster = offset >>> geometry.clusterBits();
        long l2Offset = metadata.l1().entry((int) (guestCluster / geometry.l2Entries())) & L1Table.OFFSET_MASK;
        if (l2Offset == 0) {
            return Slot.EMPTY;
        }
        ByteBuffer table = metadata.l2Cache().get(l2Offset);
        int index = (int) (guestCluster % geometry.l2Entries());
        return new Slot(L2Entry.read(table, geometry, index), L2Entry.bitmap(table, geometry, index));
    }

    private boolean isCompressed(long offset) throws IOException {
        return L2Entry.kind(slotAt(offset).entry()) == L2Entry.Kind.COMPRESSED;
    }

    private long alignUpToCluster(long offset) {
        return geometry.clusterOffset(offset + clusterSize - 1);
    }

    /**
     * Whether the whole unit of allocation status (cluster, or subcluster with extended L2 entries)
     * holding {@code offset} reads as zeroes without looking at data.
     */
    private boolean readsAsZero(long offset) throws IOException {
        long unit = Alignment.alignDown(offset, geometry.subclusterSize());
        Mapping m = map(unit, Math.min(geometry.subclusterSize(), sizeBytes - unit));
        return switch (m.kind()) {
            case ZERO_PLAIN, ZERO_ALLOC -> true;
            case UNALLOCATED -> backing.map(b -> b.sizeBytes() <= unit).orElse(!hasBacking());
            default -> false;
        };
    }

    /** Whether unallocated clusters may read something other than zeroes (named or attached backing). */
    private boolean hasBacking() {
        return backing.isPresent() || metadata.header().backingFile().isPresent();
    }

    private void writeZeroData(long start, long end) throws IOException {
        long at = start;
        while (at < end) {
            at = writeFrom(at, Zeroes.chunk(end - at));
        }
    }

    /** Whether any L2 table the active L1 table names has a compressed cluster. */
    boolean hasCompressedClusters() throws IOException {
        L1Table l1 = metadata.l1();
        for (int i = 0; i < l1.size(); i++) {
            long l2Offset = l1.entry(i) & L1Table.OFFSET_MASK;
            for (int j = 0; l2Offset != 0 && j < geometry.l2Entries(); j++) {
                long entry = L2Entry.read(metadata.l2Cache().get(l2Offset), geometry, j);
                if (L2Entry.kind(entry) == L2Entry.Kind.COMPRESSED) {
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * Turns every zero cluster into what a version 2 image can say, as QEMU's
     * qcow2_expand_zero_clusters before a downgrade: one without a host cluster becomes
     * unallocated when nothing shows through from a backing, else a new cluster of zeroes; one with
     * a host cluster has zeroes written there and becomes plain data. Standard L2 entries only
     * (an image with extended ones cannot be downgraded).
     */
    void expandZeroClusters() throws IOException {
        L1Table l1 = metadata.l1();
        ClusterAllocator allocator = metadata.allocator();
        boolean backed = hasBacking();
        for (int i = 0; i < l1.size(); i++) {
            long l2Offset = l1.entry(i) & L1Table.OFFSET_MASK;
            for (int j = 0; l2Offset != 0 && j < geometry.l2Entries(); j++) {
                long entry = metadata.l2Cache().get(l2Offset).getLong(j * 8);
                L2Entry.Kind kind = L2Entry.kind(entry);
                if (kind == L2Entry.Kind.ZERO_PLAIN && !backed) {
                    setL2Entry(l2Offset, j, 0, 0);
                } else if (kind == L2Entry.Kind.ZERO_PLAIN || kind == L2Entry.Kind.ZERO_ALLOC) {
                    long host = kind == L2Entry.Kind.ZERO_ALLOC ? L2Entry.offset(entry) : allocator.allocate(1);
                    Zeroes.write(metadata.file(), host, clusterSize);
                    metadata.order().wrote();
                    boolean one = allocator.refcount(host >>> geometry.clusterBits()) == 1;
                    setL2Entry(l2Offset, j, host | (one ? L2Entry.COPIED : 0), 0);
                }
            }
            freeIfNeeded();
        }
    }

    /**
     * Makes every cluster unallocated (reading from the backing again), its host clusters freed: the
     * full discard QEMU's qcow2_make_empty falls back to.
     */
    void unmapAll() throws IOException {
        metadata.markDirtyIfLazy();
        updateClusters(0, alignUpToCluster(sizeBytes), old -> Slot.EMPTY);
    }

    /**
     * Discards the whole clusters of {@code [offset, offset + length)}. QEMU's rule: a discarded
     * cluster reads as zeroes on v3 (the backing must not show through); v2 has no zero flag, so
     * the cluster becomes unallocated. With extended L2 entries the whole subclusters of a partly
     * discarded cluster read as zeroes from then on as well, through their bits (QEMU 7.2 leaves
     * them; later versions do this), or, in a compressed cluster, by rewriting it; what is left of
     * a subcluster stays, as a discard may.
     */
    void discard(long offset, long length) throws IOException {
        UnitSplit clusters = UnitSplit.of(offset, offset + length, clusterSize, sizeBytes);
        boolean hasBacking = hasBacking();
        List<long[]> subclusters = new ArrayList<>();
        List<long[]> compressed = new ArrayList<>();
        if (geometry.extendedL2()) {
            for (long[] piece : clusters.partial()) {
                L2Entry.Kind kind = L2Entry.kind(slotAt(piece[0]).entry(), true);
                UnitSplit inCluster = UnitSplit.of(piece[0], piece[1], geometry.subclusterSize(), sizeBytes);
                long[] whole = {inCluster.wholeStart(), Math.min(inCluster.wholeEnd(), sizeBytes)};
                if (!inCluster.hasWhole()) {
                    continue;
                }
                if (kind == L2Entry.Kind.COMPRESSED) {
                    compressed.add(whole);
                } else if (hasBacking || kind == L2Entry.Kind.DATA) {
                    subclusters.add(whole);
                }
            }
        }
        if (!clusters.hasWhole() && subclusters.isEmpty() && compressed.isEmpty()) {
            return;
        }
        metadata.markDirtyIfLazy();
        boolean zeroFlag = metadata.header().version() >= 3;
        if (clusters.hasWhole()) {
            updateClusters(clusters.wholeStart(), clusters.wholeEnd(), old -> {
                L2Entry.Kind kind = L2Entry.kind(old.entry(), geometry.extendedL2());
                boolean allocated =
                        kind == L2Entry.Kind.DATA || kind == L2Entry.Kind.ZERO_ALLOC || kind == L2Entry.Kind.COMPRESSED;
                if (!hasBacking && !allocated) {
                    return old;
                }
                if (geometry.extendedL2()) {
                    return new Slot(0, L2Entry.ALL_ZEROES);
                }
                return new Slot(zeroFlag ? L2Entry.ZERO : 0, 0);
            });
        }
        for (long[] range : subclusters) {
            zeroSubclusters(range[0], range[1]);
        }
        for (long[] range : compressed) {
            writeZeroData(range[0], range[1]);
        }
    }
}
