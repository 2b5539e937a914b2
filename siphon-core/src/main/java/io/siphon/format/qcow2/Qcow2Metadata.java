package io.siphon.format.qcow2;

import io.siphon.format.ImageFile;
import io.siphon.util.CrashPoints;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Everything of an open qcow2 image that is not guest data: the header, the L1 table, the L2 table
 * cache, the refcount structures with the cluster allocator, and the map of metadata clusters
 * (QEMU's qcow2-refcount.c and qcow2-cache.c, with the header). It owns the order in which cached
 * metadata reaches the disk: {@link #flush} runs the {@link FlushStage}s in their declared order,
 * and the L2 cache writes an evicted dirty table only after what it depends on is durable.
 *
 * <p>Not thread-safe: callers hold the image's metadata lock, and its I/O lock exclusively for
 * anything that writes.
 */
final class Qcow2Metadata {
    private static final long L2_CACHE_BYTES = 8L << 20;

    /**
     * The steps of {@link #flush}, in the order they run. Each step's writes depend on the ones
     * before it being durable (docs/formats.md, "Crash safety"); a barrier syncs only if something
     * was written since the last one.
     */
    enum FlushStage {
        /**
         * Refcounts before references: dirty refcount blocks; barrier; changed refcount table
         * entries; then a barrier, so that data and raised refcounts are durable before any L2
         * table that points at them.
         */
        REFCOUNT_RAISES {
            @Override
            void run(Qcow2Metadata m) throws IOException {
                m.allocator.flush();
                m.order.barrier();
            }
        },
        /** Dirty L2 tables (their cache's barrier has nothing left to sync). */
        L2_TABLES {
            @Override
            void run(Qcow2Metadata m) throws IOException {
                m.l2Cache.flush();
            }
        },
        /** L2 tables before the L1 entries that point at them: barrier; changed L1 entries; barrier. */
        L1_ENTRIES {
            @Override
            void run(Qcow2Metadata m) throws IOException {
                if (m.l1.isDirty()) {
                    m.order.barrier();
                    m.l1.writeDirty(m.file);
                    m.order.wrote();
                }
                m.order.barrier();
            }
        },
        /**
         * Freed refcounts lowered only once the references they drop are durably gone: the queued
         * decrements, their refcount blocks and table entries; barrier.
         */
        REFCOUNT_DECREMENTS {
            @Override
            void run(Qcow2Metadata m) throws IOException {
                if (m.allocator.pendingFreeClusters() > 0) {
                    m.allocator.applyPendingFrees();
                    m.allocator.flush();
                    m.order.barrier();
                }
            }
        };

        abstract void run(Qcow2Metadata m) throws IOException;
    }

    private final ImageFile file;
    private final Path path;
    private Geometry geometry;
    private final WriteOrder order;
    private final CompressedClusterReader compressed;

    private volatile Qcow2Header header;
    private L1Table l1;
    private ClusterAllocator allocator;
    private MetadataCache l2Cache;
    private MetadataClusters clusters;
    private boolean dirtyMarked;
    private final boolean lenient;

    /** Reads the L1 and refcount tables that {@code header}, read from {@code file}, names. */
    Qcow2Metadata(ImageFile file, Qcow2Header header) throws IOException {
        this(file, header, false);
    }

    /**
     * As {@link #Qcow2Metadata(ImageFile, Qcow2Header)}; {@code lenient} (read-only checks only)
     * keeps L1 entries that name no usable L2 table as {@link L1Table#rejected()} and lets L2 tables
     * overlap other metadata, for the checker to report instead of refusing the image.
     */
    Qcow2Metadata(ImageFile file, Qcow2Header header, boolean lenient) throws IOException {
        this.lenient = lenient;
        this.file = file;
        this.path = file.path();
        this.header = header;
        this.geometry = header.geometry();
        this.order = new WriteOrder(file);
        this.compressed = new CompressedClusterReader(file, geometry, header.compressionType());
        loadTables();
    }

    /**
     * (Re)reads the tables and starts with empty caches. With strict refcounts an L2 table the
     * cache evicts is written only after the refcounts (and data) it depends on are durable; with
     * {@code lazy_refcounts} only after the data (the dirty bit stands for the refcounts).
     */
    private void loadTables() throws IOException {
        long fileSize = file.sizeBytes();
        l1 = L1Table.read(file, header, fileSize, lenient);
        RefcountTable refcountTable = RefcountTable.read(file, header, fileSize);
        clusters = mapMetadata(refcountTable);
        allocator = new ClusterAllocator(
                file, geometry, order, refcountTable, fileSize, clusters, this::refcountTableMoved);
        MetadataCache.Barrier l2Barrier = header.lazyRefcounts()
                ? order::barrier
                : () -> {
                    allocator.flush();
                    order.barrier();
                };
        l2Cache = new MetadataCache(file, order, geometry.clusterSize(), L2_CACHE_BYTES, l2Barrier);
    }

    /** Marks every metadata cluster, refusing tables that overlap each other. */
    private MetadataClusters mapMetadata(RefcountTable refcountTable) throws IOException {
        int clusterSize = geometry.clusterSize();
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
            if (l2Offset != 0 && !map.mark(l2Offset, clusterSize) && !lenient) {
                throw Errors.malformed(path, "L1 entry " + i, "L2 table at " + l2Offset + " overlaps other metadata");
            }
        }
        return map;
    }

    ImageFile file() {
        return file;
    }

    Path path() {
        return path;
    }

    Geometry geometry() {
        return geometry;
    }

    /** The current header; safe to read without the lock. */
    Qcow2Header header() {
        return header;
    }

    L1Table l1() {
        return l1;
    }

    MetadataCache l2Cache() {
        return l2Cache;
    }

    ClusterAllocator allocator() {
        return allocator;
    }

    /** Which host clusters hold metadata; a data cluster must not be one of them. */
    MetadataClusters clusters() {
        return clusters;
    }

    WriteOrder order() {
        return order;
    }

    /** Decodes compressed cluster descriptors and inflates their data. */
    CompressedClusterReader compressed() {
        return compressed;
    }

    /** Writes everything cached back to the file, stage by stage in {@link FlushStage} order. */
    void flush() throws IOException {
        for (FlushStage stage : FlushStage.values()) {
            String point = "qcow2.flush." + stage.name().toLowerCase(Locale.ROOT);
            CrashPoints.reach(point + ".before");
            stage.run(this);
            CrashPoints.reach(point + ".after");
        }
    }

    /** Writes the header durably (after a barrier for what came before) and makes it current. */
    void writeHeader(Qcow2Header updated) throws IOException {
        byte[] encoded = updated.encode(path);
        order.barrier();
        CrashPoints.reach("qcow2.header.before");
        file.writeFully(0, ByteBuffer.wrap(encoded, 0, Math.min(encoded.length, geometry.clusterSize())));
        CrashPoints.reach("qcow2.header.written");
        file.flush();
        CrashPoints.reach("qcow2.header.flushed");
        header = updated;
    }

    private void refcountTableMoved(long offset, int clusters) throws IOException {
        writeHeader(header.withRefcountTable(offset, clusters));
    }

    /**
     * Switches to refcount structures that a repair or a change of refcount width wrote to the
     * file: writes {@code rebuilt}, the header naming them (and their width), then reloads the
     * tables.
     */
    void switchToRebuiltRefcounts(Qcow2Header rebuilt) throws IOException {
        writeHeader(rebuilt);
        geometry = rebuilt.geometry();
        loadTables();
    }

    /** With {@code lazy_refcounts}, sets the dirty bit before the first change of this session. */
    void markDirtyIfLazy() throws IOException {
        if (header.lazyRefcounts() && !dirtyMarked) {
            writeHeader(header.withIncompatibleFeatures(header.incompatibleFeatures() | Qcow2Header.INCOMPAT_DIRTY));
            dirtyMarked = true;
        }
    }

    /** Clears the dirty bit this session set; call after a final {@link #flush}. */
    void clearDirtyMark() throws IOException {
        if (dirtyMarked) {
            writeHeader(header.withIncompatibleFeatures(header.incompatibleFeatures() & ~Qcow2Header.INCOMPAT_DIRTY));
        }
    }

    /**
     * Records a new virtual size. A size the L1 table cannot cover gets a larger table in new
     * clusters: written and durable before the header names it, the old table freed after. The caller
     * has flushed, and dropped what lies past a smaller size.
     */
    void resize(long newSizeBytes) throws IOException {
        long entries = geometry.l1EntriesFor(newSizeBytes);
        if (entries <= l1.size()) {
            writeHeader(header.withSize(newSizeBytes));
            return;
        }
        growL1(entries, newSizeBytes);
    }

    /**
     * Moves the L1 table to a larger one of {@code entries} in new clusters (the entries copied, the
     * rest zero) and records {@code newSizeBytes}: written and durable before the header names it,
     * the old table freed after; the tables are then read again. The caller has flushed.
     */
    void growL1(long entries, long newSizeBytes) throws IOException {
        if (entries * 8 > Qcow2Header.MAX_L1_BYTES) {
            throw Errors.refused(path, "size", newSizeBytes + " bytes need an L1 table larger than 32 MiB");
        }
        long tableClusters = geometry.clustersFor(entries * 8);
        long offset = allocator.allocate(tableClusters);
        Zeroes.write(file, offset, tableClusters * geometry.clusterSize());
        long[] copied = new long[(int) entries];
        for (int i = 0; i < l1.size(); i++) {
            copied[i] = l1.entry(i);
        }
        file.writeFully(offset, TableEntries.encode(copied, 0, copied.length));
        allocator.flush();
        order.wrote();
        order.barrier();
        long oldOffset = l1.offset();
        long oldBytes = l1.size() * 8L;
        writeHeader(header.withL1(offset, (int) entries).withSize(newSizeBytes));
        if (oldBytes > 0) {
            allocator.free(oldOffset, oldBytes);
            FlushStage.REFCOUNT_DECREMENTS.run(this);
        }
        loadTables();
    }

    /** Gives a new image of {@code newSizeBytes} its (zeroed) L1 table. Used by create only. */
    void initializeL1(long newSizeBytes) throws IOException {
        long entries = geometry.l1EntriesFor(newSizeBytes);
        if (entries * 8 > Qcow2Header.MAX_L1_BYTES) {
            throw Errors.refused(path, "size", newSizeBytes + " bytes need an L1 table larger than 32 MiB");
        }
        long offset = 0;
        if (entries > 0) {
            long tableClusters = geometry.clustersFor(entries * 8);
            offset = allocator.allocate(tableClusters);
            // as qcow2_grow_l1_table: the entries written, the file ending after them
            Zeroes.write(file, offset, entries * 8);
            file.truncate(offset + entries * 8);
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
    }
}
