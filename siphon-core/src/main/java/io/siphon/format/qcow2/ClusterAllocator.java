package io.siphon.format.qcow2;

import io.siphon.format.ImageFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Host cluster refcounts and allocation: reads and changes refcounts through the refcount table and
 * a cache of refcount blocks, finds free runs of clusters, adds refcount blocks and grows the
 * refcount table as the file grows.
 *
 * <p>Crash ordering: a raised refcount may reach the disk at any time (a crash leaks the cluster at
 * worst), so raises go straight into the block cache. A lowered refcount must not reach the disk
 * before the reference it drops: {@link #free} only queues the decrement, and the last stage of
 * the metadata flush applies the queue with {@link #applyPendingFrees} after the tables that
 * dropped the references are durable. Until then the clusters stay allocated, so they are never reused early. Not
 * thread-safe: callers hold the image's metadata lock.
 */
final class ClusterAllocator {
    private static final Logger LOG = LoggerFactory.getLogger(ClusterAllocator.class);

    /** Moves the refcount table in the header, durably. */
    interface TableMover {
        void refcountTableMoved(long offset, int clusters) throws IOException;
    }

    private final ImageFile file;
    private final Path path;
    private final Geometry geometry;
    private final WriteOrder order;
    private final RefcountTable table;
    private final MetadataCache blocks;
    private final TableMover mover;
    private final MetadataClusters metadata;
    private final List<long[]> pendingFrees = new ArrayList<>();
    private long pendingFreeClusters;
    private long freeHint;
    private long fileEnd;
    private boolean growing;

    ClusterAllocator(
            ImageFile file,
            Geometry geometry,
            WriteOrder order,
            RefcountTable table,
            long fileSize,
            MetadataClusters metadata,
            TableMover mover) {
        this.file = file;
        this.path = file.path();
        this.geometry = geometry;
        this.order = order;
        this.table = table;
        this.mover = mover;
        this.metadata = metadata;
        this.fileEnd = fileSize;
        // refcount blocks may be reached before any write, so a raise is always safe to write early
        this.blocks = new MetadataCache(file, order, geometry.clusterSize(), 1 << 20, () -> {});
    }

    /** Bytes the file holds or allocation has claimed. Offsets at or past this are outside the image. */
    long fileEnd() {
        return fileEnd;
    }

    /** Refcount of host cluster {@code clusterIndex}; 0 for clusters no refcount block covers. */
    long refcount(long clusterIndex) throws IOException {
        long blockOffset = table.blockOffset(clusterIndex / geometry.refcountBlockEntries());
        if (blockOffset == 0) {
            return 0;
        }
        return RefcountBlock.get(
                blocks.get(blockOffset), clusterIndex % geometry.refcountBlockEntries(), geometry.refcountBits());
    }

    int tableSize() {
        return table.size();
    }

    long blockOffset(int index) {
        return table.blockOffset(index);
    }

    /** Sets a refcount that a check found too high; the cluster's refcount block exists. */
    void repairRefcount(long clusterIndex, long refcount) throws IOException {
        setRefcount(clusterIndex, refcount);
        if (refcount == 0) {
            freeHint = Math.min(freeHint, clusterIndex);
        }
    }

    private void setRefcount(long clusterIndex, long refcount) throws IOException {
        long blockOffset = table.blockOffset(clusterIndex / geometry.refcountBlockEntries());
        if (blockOffset == 0) {
            throw new IllegalStateException("no refcount block for cluster " + clusterIndex);
        }
        ByteBuffer block = blocks.get(blockOffset);
        RefcountBlock.set(block, clusterIndex % geometry.refcountBlockEntries(), geometry.refcountBits(), refcount);
        blocks.markDirty(blockOffset);
    }

    /** Raises the refcount of every cluster in the range by one (a new reference to allocated clusters). */
    void increment(long offsetBytes, long clusters) throws IOException {
        long first = geometry.clusterIndex(offsetBytes);
        for (long c = first; c < first + clusters; c++) {
            long refcount = refcount(c);
            if (refcount >= geometry.maxRefcount()) {
                throw Errors.refused(
                        path, "refcount", "cluster " + c + " already has the largest refcount " + refcount);
            }
            setRefcount(c, refcount + 1);
        }
    }

    /**
     * Allocates {@code clusters} contiguous free host clusters with refcount 1 and returns the offset
     * of the first. The file is extended to cover them.
     */
    long allocate(long clusters) throws IOException {
        while (true) {
            long start = findFree(clusters);
            if (ensureBlocks(start, clusters)) {
                continue; // new refcount blocks took clusters; look again
            }
            for (long c = start; c < start + clusters; c++) {
                setRefcount(c, 1);
            }
            // as QEMU's free_cluster_index: the search goes on after the run (a gap it skipped stays
            // free until something is freed)
            freeHint = start + clusters;
            claim((start + clusters) << geometry.clusterBits());
            return start << geometry.clusterBits();
        }
    }

    /** Gives the free run of {@code clusters} at {@code offsetBytes} refcount 1 (its refcount blocks exist); the file grows to cover it. */
    void claimRun(long offsetBytes, long clusters) throws IOException {
        long first = geometry.clusterIndex(offsetBytes);
        for (long c = first; c < first + clusters; c++) {
            if (refcount(c) != 0) {
                throw new IllegalStateException("cluster " + c + " of a claimed run is in use");
            }
            setRefcount(c, 1);
        }
        claim((first + clusters) << geometry.clusterBits());
    }

    /**
     * Makes the refcount structures cover the clusters up to {@code startOffset} and {@code
     * additionalClusters} more, as QEMU's qcow2_refcount_area (exact size): the refcount blocks
     * missing for them and then a new refcount table are written from {@code startOffset} (the end
     * of the file), the header switched to the table, the old table's clusters freed (at the next
     * flush). Returns the end of the new structures, where the free area starts.
     */
    long reserveArea(long startOffset, long additionalClusters) throws IOException {
        return reserveArea(startOffset, additionalClusters, false);
    }

    /**
     * As {@link #reserveArea(long, long)}; {@code generous} (QEMU's !exact_size, when a block
     * allocation outgrows the table) counts half the table's clusters more and gives the table half
     * as many entries again.
     */
    private long reserveArea(long startOffset, long additionalClusters, boolean generous) throws IOException {
        int clusterSize = geometry.clusterSize();
        long perBlock = geometry.refcountBlockEntries();
        long perTableCluster = clusterSize / 8;
        long covered = startOffset / clusterSize + additionalClusters;
        long blockCount = 0;
        long tableClusters = 0;
        boolean increase = generous;
        for (long last = -1, n = covered; n != last; ) {
            last = n;
            blockCount = (covered + tableClusters + blockCount + perBlock - 1) / perBlock;
            tableClusters = (blockCount + perTableCluster - 1) / perTableCluster;
            n = covered + blockCount + tableClusters;
            if (n == last && increase) {
                covered += (tableClusters + 1) / 2;
                n = -1;
                increase = false;
            }
        }
        long entries = generous ? blockCount + (blockCount + 1) / 2 : blockCount;
        tableClusters = (entries + perTableCluster - 1) / perTableCluster;
        if (tableClusters << geometry.clusterBits() > Qcow2Header.MAX_REFCOUNT_TABLE_BYTES) {
            throw Errors.refused(
                    path, "refcount_table_clusters", "the image would need a refcount table larger than 8 MiB");
        }
        int firstIndex = (int) (startOffset / clusterSize / perBlock);
        long missing = 0;
        for (long i = firstIndex; i < blockCount; i++) {
            missing += table.blockOffset(i) == 0 ? 1 : 0;
        }
        long tableOffset = startOffset + missing * clusterSize;
        long end = tableOffset + tableClusters * clusterSize;
        if (table.size() < tableClusters * perTableCluster) {
            table.growTo((int) (tableClusters * perTableCluster));
        }
        long blockOffset = startOffset;
        for (int i = firstIndex; i < blockCount; i++) {
            if (table.blockOffset(i) == 0) {
                blocks.create(blockOffset);
                table.setBlockOffset(i, blockOffset);
                metadata.mark(blockOffset, clusterSize);
                blockOffset += clusterSize;
            }
        }
        for (long c = startOffset / clusterSize; c < end / clusterSize; c++) {
            setRefcount(c, 1);
        }
        claim(end);
        switchTable(tableOffset, tableClusters);
        return end;
    }

    /**
     * Moves the refcount table to {@code clusters} clusters at {@code offset} (claimed already): the
     * refcount blocks durable, then the changed entries the old table has room for written in place
     * and the table written there, durable, then the header switched; the old table's clusters freed
     * afterwards.
     */
    private void switchTable(long offset, long clusters) throws IOException {
        long oldOffset = table.offset();
        long oldBytes = (long) table.clusters() << geometry.clusterBits();
        blocks.flush();
        order.barrier();
        table.writeDirtyWithin(file, geometry.clusterSize());
        table.relocate(file, offset, (int) clusters);
        order.wrote();
        order.barrier();
        mover.refcountTableMoved(offset, (int) clusters);
        metadata.mark(offset, clusters << geometry.clusterBits());
        metadata.unmark(oldOffset, oldBytes);
        freeMovedMetadata(oldOffset, oldBytes);
    }

    /** Queues one decrement of the refcount of each cluster touched by the byte range. */
    void free(long offsetBytes, long lengthBytes) {
        queueFree(offsetBytes, lengthBytes, true);
    }

    /**
     * As {@link #free}, for metadata that moved elsewhere: its bytes stay in the file, as QEMU frees
     * it (QCOW2_DISCARD_OTHER, which it does not pass down by default).
     */
    void freeMovedMetadata(long offsetBytes, long lengthBytes) {
        queueFree(offsetBytes, lengthBytes, false);
    }

    private void queueFree(long offsetBytes, long lengthBytes, boolean punch) {
        long first = geometry.clusterIndex(offsetBytes);
        long last = geometry.clusterIndex(offsetBytes + lengthBytes - 1);
        pendingFrees.add(new long[] {first, last - first + 1, punch ? 1 : 0});
        pendingFreeClusters += last - first + 1;
    }

    long pendingFreeClusters() {
        return pendingFreeClusters;
    }

    /**
     * Applies the queued decrements. Call only once the references they drop are durably gone.
     * Clusters left unused are punched out of the file (as QEMU passes discards down), which is safe
     * because nothing reaches them any more; those of moved metadata keep their bytes.
     */
    void applyPendingFrees() throws IOException {
        long holeStart = -1;
        long holeEnd = -1;
        for (long[] range : pendingFrees) {
            for (long c = range[0]; c < range[0] + range[1]; c++) {
                long refcount = refcount(c);
                if (refcount == 0) {
                    LOG.warn("{}: freeing host cluster {} whose refcount is already 0", path, c);
                    continue;
                }
                setRefcount(c, refcount - 1);
                if (refcount == 1) {
                    freeHint = Math.min(freeHint, c);
                    if (range[2] == 0) {
                        continue;
                    }
                    if (c != holeEnd) {
                        punch(holeStart, holeEnd);
                        holeStart = c;
                    }
                    holeEnd = c + 1;
                }
            }
        }
        punch(holeStart, holeEnd);
        pendingFrees.clear();
        pendingFreeClusters = 0;
    }

    private void punch(long startCluster, long endCluster) throws IOException {
        if (startCluster >= 0 && endCluster > startCluster) {
            file.punchHole(
                    startCluster << geometry.clusterBits(), (endCluster - startCluster) << geometry.clusterBits());
        }
    }

    /** Writes dirty refcount blocks, then (after a barrier) changed refcount table entries. */
    void flush() throws IOException {
        blocks.flush();
        if (table.isDirty()) {
            order.barrier();
            table.writeDirty(file);
            order.wrote();
        }
    }

    boolean isDirty() {
        return blocks.hasDirty() || table.isDirty() || !pendingFrees.isEmpty();
    }

    private void claim(long endBytes) throws IOException {
        if (endBytes > fileEnd) {
            file.truncate(endBytes);
            fileEnd = endBytes;
        }
    }

    private long findFree(long clusters) throws IOException {
        long run = 0;
        for (long c = freeHint; ; c++) {
            if (refcount(c) == 0) {
                if (++run == clusters) {
                    return c - clusters + 1;
                }
            } else {
                run = 0;
                if (c == freeHint) {
                    freeHint++;
                }
            }
        }
    }

    /** Makes sure refcount blocks cover the clusters; true if that allocated anything. */
    private boolean ensureBlocks(long start, long clusters) throws IOException {
        long perBlock = geometry.refcountBlockEntries();
        for (long b = start / perBlock; b <= (start + clusters - 1) / perBlock; b++) {
            if (b >= table.size()) {
                growTable(b, Math.max(start, b * perBlock), start + clusters);
                return true;
            }
            if (table.blockOffset(b) == 0) {
                addBlock(b, start + clusters);
                return true;
            }
        }
        return false;
    }

    /**
     * Places a new refcount block for block index {@code index} in the first free cluster from
     * cluster {@code from}: past the run being allocated, as QEMU's alloc_refcount_block (which
     * allocates after the run it is counting).
     */
    private void addBlock(long index, long from) throws IOException {
        long c = Math.max(from, freeHint);
        while (refcount(c) != 0) {
            c++;
        }
        long own = c / geometry.refcountBlockEntries();
        if (own == index) {
            // the block describes itself
            blocks.create(c << geometry.clusterBits());
            table.setBlockOffset((int) index, c << geometry.clusterBits());
            setRefcount(c, 1);
        } else {
            if (ensureBlocks(c, 1)) {
                return; // the caller looks again
            }
            setRefcount(c, 1);
            blocks.create(c << geometry.clusterBits());
            table.setBlockOffset((int) index, c << geometry.clusterBits());
        }
        metadata.mark(c << geometry.clusterBits(), geometry.clusterSize());
        claim((c + 1) << geometry.clusterBits());
    }

    /**
     * Grows the refcount table to hold block {@code index}, as QEMU's alloc_refcount_block: the
     * block for {@code index} in the first free cluster from {@code from} (describing itself when it
     * is in its own range), then new refcount blocks and a larger table (half as many entries again)
     * after the clusters the blocks so far cover, written and durable before the header switches to
     * them; the old table's clusters are freed afterwards. {@code clusterIndex} is the first cluster
     * that needs the block.
     */
    private void growTable(long index, long clusterIndex, long from) throws IOException {
        if (growing) {
            throw new IllegalStateException("refcount table growth recursed at block " + index);
        }
        long perBlock = geometry.refcountBlockEntries();
        long c = Math.max(from, freeHint);
        while (refcount(c) != 0) {
            c++;
        }
        growing = true;
        try {
            long blockOffset = 0;
            if (c / perBlock == index) {
                table.growTo((int) index + 1);
                blockOffset = c << geometry.clusterBits();
                blocks.create(blockOffset);
                table.setBlockOffset((int) index, blockOffset);
                setRefcount(c, 1);
                metadata.mark(blockOffset, geometry.clusterSize());
                claim(blockOffset + geometry.clusterSize());
            }
            long blocksUsed = (Math.max(clusterIndex, c) + perBlock) / perBlock;
            reserveArea(blocksUsed * perBlock << geometry.clusterBits(), 0, true);
        } finally {
            growing = false;
        }
    }
}
