package io.siphon.format.qcow2;

import io.siphon.format.ImageFile;
import io.siphon.format.ImageFormat;
import io.siphon.util.CrashPoints;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * {@code amend -o refcount_bits=N} (QEMU's qcow2_change_refcount_order): every refcount rewritten
 * at the new width into new refcount blocks and a new refcount table, which is then switched to.
 *
 * <p>Crash ordering: the new blocks and table are allocated through the current refcounts (so
 * they count themselves, and a crash before the switch leaves them as leaks at worst), written
 * completely and made durable; then one durable header write names the table and the width
 * together; then the old blocks and table, which the new refcounts still count once, are freed. A
 * crash at any point leaves either the old or the new structures whole, with leaks only.
 *
 * <p>Works on an open image's {@link Qcow2Metadata}; callers hold its locks.
 */
final class RefcountWidthChange {
    private final Qcow2Metadata metadata;
    private final int newOrder;
    private final Geometry newGeometry;

    RefcountWidthChange(Qcow2Metadata metadata, int newOrder) {
        this.metadata = metadata;
        this.newOrder = newOrder;
        Geometry old = metadata.geometry();
        this.newGeometry = new Geometry(old.clusterBits(), newOrder, old.extendedL2());
    }

    /**
     * Refuses, in qemu-img's words and before anything changes, a refcount the new width cannot
     * hold (a cluster shared by snapshots with 1-bit refcounts).
     */
    void check() throws IOException {
        int bits = newGeometry.refcountBits();
        if (bits == 64) {
            return;
        }
        ClusterAllocator allocator = metadata.allocator();
        long perBlock = metadata.geometry().refcountBlockEntries();
        for (int b = 0; b < allocator.tableSize(); b++) {
            if (allocator.blockOffset(b) == 0) {
                continue;
            }
            for (long c = b * perBlock; c < (b + 1) * perBlock; c++) {
                long refcount = allocator.refcount(c);
                if (refcount >>> bits != 0) {
                    long offset = c << newGeometry.clusterBits();
                    throw Qcow2AmendOptions.refused("Cannot decrease refcount entry width to " + bits
                            + " bits: Cluster at offset " + (offset == 0 ? "0" : Errors.hex(offset))
                            + " has a refcount of " + refcount);
                }
            }
        }
    }

    /**
     * Changes the width; {@link #check} has passed. {@code progress} is told what QEMU's walks over
     * the old table tell qemu-img: each entry of each walk, the allocating walks first (at least
     * two, of at least three in all), then the one that writes the blocks.
     */
    void run(ImageFormat.AmendProgress progress) throws IOException {
        metadata.flush();
        ClusterAllocator allocator = metadata.allocator();
        Geometry old = metadata.geometry();
        int clusterSize = old.clusterSize();
        long perNewBlock = newGeometry.refcountBlockEntries();
        int perTableCluster = clusterSize / 8;
        // allocate until the new structures cover every cluster in use, their own included
        long[] table = new long[0];
        long tableOffset = 0;
        int tableClusters = 0;
        Walk walk = new Walk(progress, old.refcountBlockEntries());
        for (boolean allocated = true; allocated; ) {
            allocated = false;
            walk.start(allocator.tableSize(), Math.max(walk.index + 3, 3)); // this walk and the next two
            long covered = coveredClusters(allocator, old);
            for (long b = 0; b * perNewBlock < covered; b++) {
                walk.reach(b * perNewBlock);
                if (inUse(allocator, old, b * perNewBlock, perNewBlock)) {
                    if (b >= table.length) {
                        table = Arrays.copyOf(table, (int) ((b / perTableCluster + 1) * perTableCluster));
                    }
                    if (table[(int) b] == 0) {
                        table[(int) b] = allocator.allocate(1);
                        allocated = true;
                    }
                }
            }
            int needed = table.length / perTableCluster;
            if ((long) needed * clusterSize > Qcow2Header.MAX_REFCOUNT_TABLE_BYTES) {
                throw Qcow2AmendOptions.refused("This operation would make the refcount table grow beyond the"
                        + " maximum size supported by QEMU, aborting");
            }
            if (needed > tableClusters) {
                if (tableClusters > 0) {
                    allocator.freeMovedMetadata(tableOffset, (long) tableClusters * clusterSize);
                    metadata.flush(); // lowers the refcounts of the smaller table before they are copied
                }
                tableOffset = allocator.allocate(needed);
                tableClusters = needed;
                allocated = true;
            }
            walk.end();
        }
        metadata.flush();
        CrashPoints.reach("qcow2.refcount_width.allocated");
        walk.start(allocator.tableSize(), walk.index + 2); // the last
        writeBlocks(allocator, table, walk);
        walk.end();
        ImageFile file = metadata.file();
        file.writeFully(tableOffset, TableEntries.encode(table, 0, table.length));
        metadata.order().wrote();
        metadata.order().barrier();
        CrashPoints.reach("qcow2.refcount_width.written");

        long oldTableOffset = metadata.header().refcountTableOffset();
        long oldTableBytes = metadata.header().refcountTableBytes();
        List<Long> oldBlocks = new ArrayList<>();
        for (int b = 0; b < allocator.tableSize(); b++) {
            if (allocator.blockOffset(b) != 0) {
                oldBlocks.add(allocator.blockOffset(b));
            }
        }
        metadata.switchToRebuiltRefcounts(metadata.header().withRefcounts(newOrder, tableOffset, tableClusters));
        ClusterAllocator switched = metadata.allocator();
        switched.freeMovedMetadata(oldTableOffset, oldTableBytes);
        for (long block : oldBlocks) {
            switched.freeMovedMetadata(block, clusterSize);
        }
        metadata.flush();
    }

    /** Clusters up to the end of the last refcount block: none past it is in use. */
    private static long coveredClusters(ClusterAllocator allocator, Geometry old) {
        for (int b = allocator.tableSize() - 1; b >= 0; b--) {
            if (allocator.blockOffset(b) != 0) {
                return (b + 1) * old.refcountBlockEntries();
            }
        }
        return 0;
    }

    /** Whether any of the clusters has a refcount; those of absent refcount blocks have none. */
    private static boolean inUse(ClusterAllocator allocator, Geometry old, long first, long clusters)
            throws IOException {
        long perBlock = old.refcountBlockEntries();
        for (long c = first, end = first + clusters; c < end; ) {
            long blockEnd = Math.min(end, (c / perBlock + 1) * perBlock);
            if (allocator.blockOffset((int) (c / perBlock)) == 0) {
                c = blockEnd;
                continue;
            }
            for (; c < blockEnd; c++) {
                if (allocator.refcount(c) != 0) {
                    return true;
                }
            }
        }
        return false;
    }

    /** Writes each new refcount block: the current refcounts of its clusters at the new width. */
    private void writeBlocks(ClusterAllocator allocator, long[] table, Walk walk) throws IOException {
        int clusterSize = newGeometry.clusterSize();
        long perBlock = newGeometry.refcountBlockEntries();
        ByteBuffer block = ByteBuffer.allocate(clusterSize);
        for (int b = 0; b < table.length; b++) {
            if (table[b] == 0) {
                continue;
            }
            walk.reach(b * perBlock);
            Arrays.fill(block.array(), (byte) 0);
            for (long i = 0; i < perBlock; i++) {
                long refcount = allocator.refcount(b * perBlock + i);
                if (refcount != 0) {
                    RefcountBlock.set(block, i, newGeometry.refcountBits(), refcount);
                }
            }
            block.clear();
            metadata.file().writeFully(table[b], block);
        }
        metadata.order().wrote();
    }

    /** Progress through one walk over the old table's entries, as QEMU's walk_over_reftable reports it. */
    private static final class Walk {
        private final ImageFormat.AmendProgress progress;
        private final long clustersPerEntry;
        private int index = -1;
        private int walks;
        private long entries;
        private long reported;

        Walk(ImageFormat.AmendProgress progress, long clustersPerEntry) {
            this.progress = progress;
            this.clustersPerEntry = clustersPerEntry;
        }

        void start(long tableEntries, int totalWalks) {
            index++;
            walks = totalWalks;
            entries = tableEntries;
            reported = 0;
        }

        /** Reports the entries up to the one that counts {@code cluster}. */
        void reach(long cluster) {
            for (long upTo = Math.min(entries, cluster / clustersPerEntry + 1); reported < upTo; reported++) {
                progress.progress(index * entries + reported, walks * entries);
            }
        }

        void end() {
            reach((entries - 1) * clustersPerEntry);
            progress.progress((index + 1) * entries, walks * entries);
        }
    }
}
