package io.siphon.format.qcow2;

import io.siphon.format.CheckReport;
import io.siphon.format.ImageFile;
import io.siphon.format.ImageFormatException;
import io.siphon.format.RepairMode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Consistency check and repair, with qemu-img check's counts: recomputes every host cluster's
 * refcount from the header, L1 and L2 tables and refcount structures, compares it with the stored
 * refcounts (higher stored: leak; lower: corruption) and checks the "refcount is one" flags.
 *
 * <p>Repair: leaks are lowered in place (the block exists, nothing is allocated). Corruptions are
 * repaired by rebuilding the refcount structures past the end of the file from the computed counts,
 * so nothing in use can be handed out while refcounts are wrong; then flags are fixed. Memory: one
 * int per cluster of the file (the file's size bounds it, not header values). Works on the
 * image's {@link Qcow2Metadata}; callers hold the image's locks exclusively.
 */
final class Qcow2Checker {
    private static final long MAX_CLUSTERS = 1L << 27;
    private static final int MAX_PROBLEMS = 1000;

    private final Qcow2Metadata metadata;
    private final ImageFile file;
    private final Path path;
    private final Geometry geometry;
    private final int clusterSize;

    Qcow2Checker(Qcow2Metadata metadata) {
        this.metadata = metadata;
        this.file = metadata.file();
        this.path = file.path();
        this.geometry = metadata.geometry();
        this.clusterSize = geometry.clusterSize();
    }

    /** What one pass found. */
    private static final class Pass {
        int[] computed;
        long corruptions;
        long leaks;
        long allocated;
        long fragmented;
        long compressedClusters;
        long highestCluster = -1;
        long nextContiguous;
        final List<Long> leaked = new ArrayList<>();
        final List<String> problems = new ArrayList<>();
        boolean refcountStructuresBroken;
        boolean flagsWrong;
        /** Entries with reserved bits, or an L1 entry with flags but no L2 table: {@link #clearStrayEntryBits}. */
        long strayEntryBits;
        /** Bad subcluster bitmaps: counted as corruptions, left as they are by a repair (as qemu-img). */
        long badBitmaps;

        void problem(String text) {
            if (problems.size() < MAX_PROBLEMS) {
                problems.add(text);
            }
        }
    }

    CheckReport run(RepairMode mode) throws IOException {
        Qcow2Header header = metadata.header();
        if (header.nbSnapshots() > 0) {
            throw Errors.unsupported(path, "nb_snapshots", "checking images with internal snapshots is not supported");
        }
        if (header.otherExtensions().stream().anyMatch(e -> e.type() == HeaderExtension.BITMAPS)) {
            throw Errors.unsupported(
                    path, "bitmaps extension", "checking images with persistent bitmaps is not supported");
        }
        Optional<CheckReport> tooLarge = tooLargeToCheck(header);
        if (tooLarge.isPresent()) {
            return tooLarge.get();
        }
        Pass first = scan();
        List<String> firstProblems = first.problems;
        long entryBitsFixed = 0;
        if (mode == RepairMode.ALL && first.strayEntryBits > 0) {
            entryBitsFixed = clearStrayEntryBits();
            first = scan(); // the rest of the repair works on the cleared entries
        }
        long corruptionsFixed = entryBitsFixed;
        long leaksFixed = 0;
        long refcountCorruptions = first.corruptions - first.badBitmaps;
        if (mode == RepairMode.ALL && (refcountCorruptions > 0 || first.refcountStructuresBroken)) {
            rebuildRefcounts(first);
            fixFlags();
            corruptionsFixed += refcountCorruptions;
            leaksFixed = first.leaks;
        } else if (mode != RepairMode.NONE && first.leaks > 0) {
            for (long cluster : first.leaked) {
                metadata.allocator().repairRefcount(cluster, first.computed[(int) cluster]);
            }
            metadata.flush();
            leaksFixed = first.leaks;
            if (mode == RepairMode.ALL && first.flagsWrong) {
                corruptionsFixed += fixFlags();
            }
        } else if (mode == RepairMode.ALL && first.flagsWrong) {
            corruptionsFixed += fixFlags();
        }
        Pass result = first;
        List<String> problems = new ArrayList<>(firstProblems);
        if (corruptionsFixed > 0 || leaksFixed > 0) {
            result = scan();
            problems.add("repaired " + corruptionsFixed + " corruptions and " + leaksFixed + " leaks; checked again");
            problems.addAll(result.problems);
        }
        return new CheckReport(
                Qcow2Format.NAME,
                path,
                result.corruptions,
                result.leaks,
                corruptionsFixed,
                leaksFixed,
                0,
                OptionalLong.of((result.highestCluster + 1) * clusterSize),
                geometry.clustersFor(header.sizeBytes()),
                result.allocated,
                result.fragmented,
                result.compressedClusters,
                problems);
    }

    private Pass scan() throws IOException {
        Qcow2Header header = metadata.header();
        long fileSize = file.sizeBytes();
        long clusters = geometry.clustersFor(fileSize);
        if (clusters > MAX_CLUSTERS) {
            throw Errors.unsupported(path, "", "file of " + fileSize + " bytes has too many clusters to check");
        }
        Pass pass = new Pass();
        pass.computed = new int[(int) clusters];
        reference(pass, 0, clusterSize);
        L1Table l1 = metadata.l1();
        reference(pass, l1.offset(), l1.size() * 8L);
        for (int i = 0; i < l1.size(); i++) {
            long l2Offset = l1.entry(i) & L1Table.OFFSET_MASK;
            if (l2Offset != 0) {
                reference(pass, l2Offset, clusterSize);
                scanL2(pass, l2Offset);
            } else {
                checkEmptyL1Entry(pass, i, l1.entry(i));
            }
        }
        l1.rejected().values().forEach(entry -> rejectedL2(pass, entry & L1Table.OFFSET_MASK));
        reference(pass, header.refcountTableOffset(), header.refcountTableBytes());
        ClusterAllocator allocator = metadata.allocator();
        for (int b = 0; b < allocator.tableSize(); b++) {
            long blockOffset = allocator.blockOffset(b);
            if (blockOffset != 0) {
                reference(pass, blockOffset, clusterSize);
            }
        }
        compare(pass, clusters);
        checkFlags(pass);
        return pass;
    }

    private void scanL2(Pass pass, long l2Offset) throws IOException {
        CompressedClusterReader compressed = metadata.compressed();
        pass.nextContiguous = 0; // as qemu-img, fragmentation is counted within each L2 table
        for (int j = 0; j < geometry.l2Entries(); j++) {
            ByteBuffer table = metadata.l2Cache().get(l2Offset);
            long entry = L2Entry.read(table, geometry, j);
            checkReservedBits(pass, entry);
            checkBitmap(pass, entry, L2Entry.bitmap(table, geometry, j), j);
            switch (L2Entry.kind(entry, geometry.extendedL2())) {
                case COMPRESSED -> {
                    pass.allocated++;
                    pass.compressedClusters++;
                    pass.fragmented++;
                    if (L2Entry.copied(entry)) {
                        pass.corruptions++;
                        pass.flagsWrong = true;
                        pass.problem("ERROR: compressed cluster with the copied flag at L2 entry " + j
                                + " of the table at " + l2Offset);
                    }
                    long start = compressed.hostOffset(entry) & ~511L;
                    long end = compressed.hostOffset(entry) + compressed.storedBytes(entry);
                    reference(pass, start, end - start);
                }
                case DATA, ZERO_ALLOC -> {
                    long host = L2Entry.offset(entry);
                    pass.allocated++;
                    if (pass.nextContiguous != 0 && host != pass.nextContiguous) {
                        pass.fragmented++;
                    }
                    pass.nextContiguous = host + clusterSize;
                    if ((host & (clusterSize - 1)) != 0) {
                        pass.corruptions++;
                        pass.problem("ERROR offset=" + Long.toHexString(host) + ": "
                                + (L2Entry.kind(entry, geometry.extendedL2()) == L2Entry.Kind.DATA
                                        ? "Data"
                                        : "Preallocated")
                                + " cluster is not properly aligned; L2 entry corrupted.");
                    } else {
                        reference(pass, host, clusterSize);
                    }
                }
                default -> {}
            }
        }
    }

    /**
     * The subcluster bitmap of an extended entry, with qemu-img 7.2's messages: each problem is a
     * corruption, which a repair leaves (the data it describes is unknown). (qemu-img also stops counting a compressed cluster with a bitmap, so that its
     * host cluster shows up as leaked, and a repair would free it under the data; here it stays
     * referenced.)
     */
    private void checkBitmap(Pass pass, long entry, long bitmap, int index) {
        if (!geometry.extendedL2() || L2Entry.bitmapProblem(entry, bitmap).isEmpty()) {
            return;
        }
        pass.corruptions++;
        pass.badBitmaps++;
        pass.problem(
                switch (L2Entry.kind(entry, true)) {
                    case COMPRESSED ->
                        "ERROR compressed cluster " + index + " with non-zero subcluster allocation bitmap, entry=0x"
                                + Long.toHexString(entry);
                    case UNALLOCATED -> "ERROR: Unallocated cluster has non-zero subcluster allocation map";
                    default ->
                        "ERROR offset=" + Long.toHexString(L2Entry.offset(entry))
                                + ": Allocated cluster has corrupted subcluster allocation bitmap";
                });
    }

    /** As qemu-img 7.2: a standard (not compressed) L2 entry with reserved bits set is a corruption. */
    private static void checkReservedBits(Pass pass, long entry) {
        if (L2Entry.kind(entry) != L2Entry.Kind.COMPRESSED && (entry & L2Entry.STD_RESERVED_MASK) != 0) {
            pass.corruptions++;
            pass.strayEntryBits++;
            pass.problem("ERROR found l2 entry with reserved bits set: " + Long.toHexString(entry));
        }
    }

    /**
     * An L1 entry without an L2 table must be zero. One with flags (a stray COPIED) reads as
     * unallocated, but qemu-img 7.2 takes it for an L2 table at offset 0, reports the header's bytes
     * as dozens of errors and fails to repair it; here it is one corruption, which {@code -r all}
     * clears.
     */
    private static void checkEmptyL1Entry(Pass pass, int index, long entry) {
        if (entry != 0) {
            pass.corruptions++;
            pass.strayEntryBits++;
            pass.problem("ERROR L1 entry " + index + " has no L2 table but is not zero: l1_entry="
                    + Long.toHexString(entry));
        }
    }

    /**
     * Clears what {@link #checkReservedBits} and {@link #checkEmptyL1Entry} found: reserved bits of
     * L2 entries (they take no part in the mapping, so the data stays where it was) and L1 entries
     * without an L2 table (zero, as QEMU reads them anyway). Returns how many entries changed.
     */
    private long clearStrayEntryBits() throws IOException {
        long fixed = 0;
        L1Table l1 = metadata.l1();
        MetadataCache l2Cache = metadata.l2Cache();
        for (int i = 0; i < l1.size(); i++) {
            long entry = l1.entry(i);
            long l2Offset = entry & L1Table.OFFSET_MASK;
            if (l2Offset == 0) {
                if (entry != 0) {
                    l1.set(i, 0);
                    fixed++;
                }
                continue;
            }
            for (int j = 0; j < geometry.l2Entries(); j++) {
                ByteBuffer table = l2Cache.get(l2Offset);
                long l2 = L2Entry.read(table, geometry, j);
                if (L2Entry.kind(l2) != L2Entry.Kind.COMPRESSED && (l2 & L2Entry.STD_RESERVED_MASK) != 0) {
                    L2Entry.write(
                            table, geometry, j, l2 & ~L2Entry.STD_RESERVED_MASK, L2Entry.bitmap(table, geometry, j));
                    l2Cache.markDirty(l2Offset);
                    fixed++;
                }
            }
        }
        metadata.flush();
        return fixed;
    }

    /**
     * A file with more clusters than one int each can count in memory: the check cannot be done,
     * which is a check error (exit 1, as qemu-img's "Check failed: File too large"), not a format
     * without checks.
     */
    private Optional<CheckReport> tooLargeToCheck(Qcow2Header header) throws IOException {
        long fileSize = file.sizeBytes();
        long clusters = geometry.clustersFor(fileSize);
        if (clusters <= MAX_CLUSTERS) {
            return Optional.empty();
        }
        return Optional.of(new CheckReport(
                Qcow2Format.NAME,
                path,
                0,
                0,
                0,
                0,
                1,
                OptionalLong.empty(),
                geometry.clustersFor(header.sizeBytes()),
                0,
                0,
                0,
                List.of("Check failed: file of " + fileSize + " bytes has " + clusters + " clusters, more than the "
                        + MAX_CLUSTERS + " a check can count")));
    }

    /**
     * An L1 entry that open refused: counted as a reference (as QEMU does, so one past the end of
     * the file is a corruption), its table not read.
     */
    private void rejectedL2(Pass pass, long l2Offset) {
        reference(pass, l2Offset, clusterSize);
        if ((l2Offset & (clusterSize - 1)) != 0) {
            pass.corruptions++;
            pass.problem("ERROR l2_offset=" + Long.toHexString(l2Offset)
                    + ": Table is not cluster aligned; L1 entry corrupted");
        }
    }

    /** Counts a reference to each cluster of a region; a region reaching past the file counts none. */
    private void reference(Pass pass, long offset, long bytes) {
        if (bytes <= 0) {
            return;
        }
        long first = offset >>> geometry.clusterBits();
        long last = (offset + bytes - 1) >>> geometry.clusterBits();
        if (last >= pass.computed.length) {
            pass.corruptions++;
            pass.problem("ERROR: counting reference for region exceeding the end of the file by one cluster or more:"
                    + " offset " + Errors.hex(offset) + " size " + Errors.hex(bytes));
            return;
        }
        for (long c = first; c <= last; c++) {
            pass.computed[(int) c]++;
        }
    }

    private void compare(Pass pass, long clusters) throws IOException {
        ClusterAllocator allocator = metadata.allocator();
        for (long c = 0; c < clusters; c++) {
            long computed = pass.computed[(int) c];
            if (computed > 0) {
                pass.highestCluster = c;
            }
            long stored;
            try {
                stored = allocator.refcount(c);
            } catch (IOException e) {
                pass.refcountStructuresBroken = true;
                pass.corruptions++;
                pass.problem("ERROR: cannot read the refcount of cluster " + c + ": " + e.getMessage());
                continue;
            }
            if (stored > 0) {
                pass.highestCluster = c; // as QEMU: the image ends after its last referenced or leaked cluster
            }
            if (stored > computed) {
                pass.leaks++;
                pass.leaked.add(c);
                pass.problem("Leaked cluster " + c + " refcount=" + stored + " reference=" + computed);
            } else if (stored < computed) {
                pass.corruptions++;
                pass.problem("ERROR cluster " + c + " refcount=" + stored + " reference=" + computed);
            }
        }
    }

    /** The "refcount is exactly one" flags of L1 and L2 entries, against the computed refcounts. */
    private void checkFlags(Pass pass) throws IOException {
        L1Table l1 = metadata.l1();
        for (int i = 0; i < l1.size(); i++) {
            long entry = l1.entry(i);
            long l2Offset = entry & L1Table.OFFSET_MASK;
            if (l2Offset == 0) {
                continue;
            }
            OptionalLong l2Refcount = wrongFlagRefcount(pass, l2Offset, (entry & L1Table.COPIED) != 0);
            if (l2Refcount.isPresent()) {
                pass.corruptions++;
                pass.flagsWrong = true;
                pass.problem("ERROR OFLAG_COPIED L2 cluster: l1_index=" + i + " l1_entry=" + Long.toHexString(entry)
                        + " refcount=" + l2Refcount.getAsLong());
            }
            for (int j = 0; j < geometry.l2Entries(); j++) {
                long l2 = L2Entry.read(metadata.l2Cache().get(l2Offset), geometry, j);
                L2Entry.Kind kind = L2Entry.kind(l2);
                if (kind != L2Entry.Kind.DATA && kind != L2Entry.Kind.ZERO_ALLOC) {
                    continue;
                }
                OptionalLong dataRefcount = wrongFlagRefcount(pass, L2Entry.offset(l2), L2Entry.copied(l2));
                if (dataRefcount.isPresent()) {
                    pass.corruptions++;
                    pass.flagsWrong = true;
                    pass.problem("ERROR OFLAG_COPIED data cluster: l2_entry=" + Long.toHexString(l2) + " refcount="
                            + dataRefcount.getAsLong());
                }
            }
        }
    }

    /**
     * As QEMU, the flag against the stored refcount (what a writer would trust): that refcount when
     * the flag disagrees with it, empty when it agrees or cannot be read.
     */
    private OptionalLong wrongFlagRefcount(Pass pass, long offset, boolean copied) throws IOException {
        long c = offset >>> geometry.clusterBits();
        if (c >= pass.computed.length) {
            return OptionalLong.empty();
        }
        long refcount;
        try {
            refcount = metadata.allocator().refcount(c);
        } catch (ImageFormatException e) {
            return OptionalLong.empty(); // counted by the refcount comparison
        }
        return (refcount == 1) != copied ? OptionalLong.of(refcount) : OptionalLong.empty();
    }

    /**
     * Sets every "refcount is one" flag of the active tables from the stored refcounts (a repair, or
     * a deleted snapshot that left clusters with one reference); returns how many changed.
     */
    long fixFlags() throws IOException {
        long fixed = 0;
        L1Table l1 = metadata.l1();
        ClusterAllocator allocator = metadata.allocator();
        MetadataCache l2Cache = metadata.l2Cache();
        for (int i = 0; i < l1.size(); i++) {
            long entry = l1.entry(i);
            long l2Offset = entry & L1Table.OFFSET_MASK;
            if (l2Offset == 0) {
                continue;
            }
            boolean one = allocator.refcount(l2Offset >>> geometry.clusterBits()) == 1;
            if (one != ((entry & L1Table.COPIED) != 0)) {
                l1.set(i, one ? entry | L1Table.COPIED : entry & ~L1Table.COPIED);
                fixed++;
            }
            for (int j = 0; j < geometry.l2Entries(); j++) {
                ByteBuffer table = l2Cache.get(l2Offset);
                long l2 = L2Entry.read(table, geometry, j);
                L2Entry.Kind kind = L2Entry.kind(l2);
                long fixedEntry = l2;
                if (kind == L2Entry.Kind.COMPRESSED) {
                    fixedEntry = l2 & ~L2Entry.COPIED;
                } else if (kind == L2Entry.Kind.DATA || kind == L2Entry.Kind.ZERO_ALLOC) {
                    boolean dataOne = allocator.refcount(L2Entry.offset(l2) >>> geometry.clusterBits()) == 1;
                    fixedEntry = dataOne ? l2 | L2Entry.COPIED : l2 & ~L2Entry.COPIED;
                }
                if (fixedEntry != l2) {
                    table.putLong(j * geometry.l2EntryBytes(), fixedEntry);
                    l2Cache.markDirty(l2Offset);
                    fixed++;
                }
            }
        }
        metadata.flush();
        return fixed;
    }

    /**
     * Writes new refcount blocks and a new refcount table past the end of the file, holding the
     * computed refcounts (plus their own clusters), makes them durable, then switches the header to
     * them. The old structures' clusters end up with refcount 0.
     */
    private void rebuildRefcounts(Pass pass) throws IOException {
        Qcow2Header header = metadata.header();
        int[] computed = pass.computed.clone();
        // drop the old refcount structures from the counts: they are replaced
        unreference(computed, header.refcountTableOffset(), header.refcountTableBytes());
        ClusterAllocator allocator = metadata.allocator();
        for (int b = 0; b < allocator.tableSize(); b++) {
            unreference(computed, allocator.blockOffset(b), allocator.blockOffset(b) == 0 ? 0 : clusterSize);
        }
        long start = computed.length;
        long perBlock = geometry.refcountBlockEntries();
        long blocks = 0;
        long tableClusters = 0;
        while (true) {
            long end = start + blocks + tableClusters;
            long needBlocks = (end + perBlock - 1) / perBlock;
            long needTable = (needBlocks * 8 + clusterSize - 1) / clusterSize;
            if (needBlocks == blocks && needTable == tableClusters) {
                break;
            }
            blocks = needBlocks;
            tableClusters = needTable;
        }
        if (tableClusters * clusterSize > Qcow2Header.MAX_REFCOUNT_TABLE_BYTES) {
            throw Errors.unsupported(path, "refcount_table_clusters", "rebuilt refcount table would exceed 8 MiB");
        }
        long total = start + blocks + tableClusters;
        long maxRefcount = geometry.maxRefcount();
        ByteBuffer table = ByteBuffer.allocate((int) (tableClusters * clusterSize));
        for (long b = 0; b < blocks; b++) {
            ByteBuffer block = ByteBuffer.allocate(clusterSize);
            for (long i = 0; i < perBlock; i++) {
                long c = b * perBlock + i;
                long refcount = c < computed.length ? computed[(int) c] : (c < total ? 1 : 0);
                if (refcount > maxRefcount) {
                    throw Errors.unsupported(
                            path,
                            "refcount_order",
                            "cluster " + c + " needs refcount " + refcount + ", above the maximum");
                }
                if (refcount != 0) {
                    RefcountBlock.set(block, i, geometry.refcountBits(), refcount);
                }
            }
            long blockOffset = (start + b) * clusterSize;
            file.writeFully(blockOffset, ByteBuffer.wrap(block.array()));
            table.putLong((int) (b * 8), blockOffset);
        }
        long tableOffset = (start + blocks) * clusterSize;
        file.writeFully(tableOffset, table.clear());
        file.flush();
        metadata.switchToRebuiltRefcounts(header.withRefcountTable(tableOffset, (int) tableClusters));
    }

    private void unreference(int[] computed, long offset, long bytes) {
        if (bytes <= 0) {
            return;
        }
        for (long c = offset >>> geometry.clusterBits(); c <= (offset + bytes - 1) >>> geometry.clusterBits(); c++) {
            if (c < computed.length && computed[(int) c] > 0) {
                computed[(int) c]--;
            }
        }
    }
}
