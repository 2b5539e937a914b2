package io.siphon.format.qcow2;

import io.siphon.block.BlockDevice;
import io.siphon.block.FastZeroUnsupportedException;
import io.siphon.format.ImageFile;
import io.siphon.util.CrashPoints;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Guest offset to host offset through the L1 and L2 tables, and every change of that mapping:
 * allocating writes with copy-on-write, L2 updates with the frees they queue, zeroing and discard
 * (QEMU's qcow2-cluster.c; the twin of QED's cluster map). It is handed what it needs from above:
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

    /** What a whole-cluster update does to one L2 entry. */
    private interface EntryUpdate {
        long apply(long entry);
    }

    private final Qcow2Metadata metadata;
    private final GuestReader oldContent;
    private final Path path;
    private final Geometry geometry;
    private final int clusterSize;
    private final long sizeBytes;
    private final CompressedClusterPacker packer;
    private volatile Optional<BlockDevice> backing = Optional.empty();

    Qcow2ClusterMap(Qcow2Metadata metadata, long sizeBytes, GuestReader oldContent) {
        this.metadata = metadata;
        this.oldContent = oldContent;
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
        long at = offset;
        while (src.hasRemaining()) {
            Mapping m = map(at, src.remaining());
            at += m.writableInPlace() ? writeInPlace(m, src) : allocateAndWrite(m, src);
        }
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
        long host = metadata.allocator().allocate(clusters);

        ImageFile file = metadata.file();
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
        metadata.order().wrote();
        CrashPoints.reach("qcow2.data.written");
        int firstIndex = (int) ((firstCluster >>> geometry.clusterBits()) % geometry.l2Entries());
        for (int i = 0; i < clusters; i++) {
            setL2Entry(l2Offset, firstIndex + i, host + (long) i * clusterSize | L2Entry.COPIED);
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
        if (m.kind() == L2Entry.Kind.DATA
                || m.kind() == L2Entry.Kind.ZERO_ALLOC
                || m.kind() == L2Entry.Kind.COMPRESSED) {
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
        setL2Entry(l2Offset, (int) (guestCluster % geometry.l2Entries()), packer.descriptor(host, length));
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
            setL2Entry(l2Offset, index + i, first + (long) i * clusterSize | L2Entry.COPIED);
        }
        return first;
    }

    /** The guest cluster at {@code clusterOffset} as it reads now (the part inside the disk; zeroes past it). */
    private byte[] oldCluster(long clusterOffset) throws IOException {
        byte[] cluster = new byte[clusterSize];
        int inside = (int) Math.min(clusterSize, sizeBytes - clusterOffset);
        oldContent.read(clusterOffset, ByteBuffer.wrap(cluster, 0, inside));
        return cluster;
    }

    /** The L2 table for {@code l1Index}, allocated (zeroed) if absent. */
    private long ensureL2Table(int l1Index) throws IOException {
        L1Table l1 = metadata.l1();
        ClusterAllocator allocator = metadata.allocator();
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
        metadata.clusters().mark(l2Offset, clusterSize);
        metadata.l2Cache().create(l2Offset);
        l1.set(l1Index, l2Offset | L1Table.COPIED);
        return l2Offset;
    }

    /** Sets an L2 entry, queueing the free of host clusters the old entry referenced and the new one does not. */
    private void setL2Entry(long l2Offset, int index, long newEntry) throws IOException {
        MetadataCache l2Cache = metadata.l2Cache();
        ByteBuffer table = l2Cache.get(l2Offset);
        long old = table.getLong(index * 8);
        if (old == newEntry) {
            return;
        }
        table.putLong(index * 8, newEntry);
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
            if (l2Offset == 0 && update.apply(0) == 0) {
                cluster = tableEnd;
                continue;
            }
            l2Offset = ensureL2Table(l1Index);
            for (; cluster < tableEnd; cluster += clusterSize, index++) {
                long old = metadata.l2Cache().get(l2Offset).getLong(index * 8);
                setL2Entry(l2Offset, index, update.apply(old));
            }
            freeIfNeeded();
        }
    }

    /**
     * Makes {@code [offset, offset + length)} read as zeroes: whole clusters through their L2
     * entries where the version allows, the rest by writing zeroes where they do not read as zeroes
     * already. With {@code noFallback}, fails before changing anything if zeroes would be written.
     */
    void writeZeroes(long offset, long length, boolean mayUnmap, boolean noFallback) throws IOException {
        long end = offset + length;
        long wholeStart = alignUpToCluster(offset);
        long wholeEnd = end == sizeBytes ? alignUpToCluster(end) : geometry.clusterOffset(end);
        List<long[]> partial = new ArrayList<>();
        if (wholeStart >= wholeEnd) {
            // no whole cluster: the range touches one or two clusters, each partly
            for (long at = offset; at < end; ) {
                long pieceEnd = Math.min(end, geometry.clusterOffset(at) + clusterSize);
                partial.add(new long[] {at, pieceEnd});
                at = pieceEnd;
            }
            wholeStart = wholeEnd = end;
        } else {
            if (offset < wholeStart) {
                partial.add(new long[] {offset, wholeStart});
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
        boolean zeroFlag = metadata.header().version() >= 3;
        boolean wholeSlow = !zeroFlag && hasBacking() && wholeStart < wholeEnd;
        if (noFallback && (wholeSlow || !slow.isEmpty())) {
            throw new FastZeroUnsupportedException(
                    path + ": zeroing " + length + " bytes at " + offset + " would need writing zeroes");
        }
        metadata.markDirtyIfLazy();
        if (wholeSlow) {
            slow.add(new long[] {wholeStart, Math.min(wholeEnd, sizeBytes)});
        } else if (wholeStart < wholeEnd) {
            updateClusters(wholeStart, wholeEnd, old -> zeroedEntry(old, mayUnmap, zeroFlag));
        }
        for (long[] range : slow) {
            writeZeroData(range[0], range[1]);
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
        return backing.isPresent() || metadata.header().backingFile().isPresent();
    }

    private void writeZeroData(long start, long end) throws IOException {
        long at = start;
        while (at < end) {
            ByteBuffer zeroes = Zeroes.chunk(end - at);
            while (zeroes.hasRemaining()) {
                Mapping m = map(at, zeroes.remaining());
                at += m.writableInPlace() ? writeInPlace(m, zeroes) : allocateAndWrite(m, zeroes);
            }
        }
    }

    /** Whether any L2 table the active L1 table names has a compressed cluster. */
    boolean hasCompressedClusters() throws IOException {
        L1Table l1 = metadata.l1();
        for (int i = 0; i < l1.size(); i++) {
            long l2Offset = l1.entry(i) & L1Table.OFFSET_MASK;
            for (int j = 0; l2Offset != 0 && j < geometry.l2Entries(); j++) {
                if (L2Entry.kind(metadata.l2Cache().get(l2Offset).getLong(j * 8)) == L2Entry.Kind.COMPRESSED) {
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
     * a host cluster has zeroes written there and becomes plain data.
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
                    setL2Entry(l2Offset, j, 0);
                } else if (kind == L2Entry.Kind.ZERO_PLAIN || kind == L2Entry.Kind.ZERO_ALLOC) {
                    long host = kind == L2Entry.Kind.ZERO_ALLOC ? L2Entry.offset(entry) : allocator.allocate(1);
                    Zeroes.write(metadata.file(), host, clusterSize);
                    metadata.order().wrote();
                    boolean one = allocator.refcount(host >>> geometry.clusterBits()) == 1;
                    setL2Entry(l2Offset, j, host | (one ? L2Entry.COPIED : 0));
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
        updateClusters(0, alignUpToCluster(sizeBytes), old -> 0);
    }

    /**
     * Discards the whole clusters of {@code [offset, offset + length)}. QEMU's rule: a discarded
     * cluster reads as zeroes on v3 (the backing must not show through); v2 has no zero flag, so
     * the cluster becomes unallocated.
     */
    void discard(long offset, long length) throws IOException {
        long end = offset + length;
        long wholeStart = alignUpToCluster(offset);
        long wholeEnd = end == sizeBytes ? alignUpToCluster(end) : geometry.clusterOffset(end);
        if (wholeStart >= wholeEnd) {
            return;
        }
        metadata.markDirtyIfLazy();
        boolean zeroFlag = metadata.header().version() >= 3;
        boolean hasBacking = hasBacking();
        updateClusters(wholeStart, wholeEnd, old -> {
            L2Entry.Kind kind = L2Entry.kind(old);
            boolean allocated =
                    kind == L2Entry.Kind.DATA || kind == L2Entry.Kind.ZERO_ALLOC || kind == L2Entry.Kind.COMPRESSED;
            if (!hasBacking && !allocated) {
                return old;
            }
            return zeroFlag ? L2Entry.ZERO : 0;
        });
    }
}
