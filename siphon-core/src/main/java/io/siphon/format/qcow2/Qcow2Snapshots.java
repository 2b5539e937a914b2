package io.siphon.format.qcow2;

import io.siphon.format.ImageSnapshot;
import io.siphon.util.CrashPoints;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;

/**
 * Creating, applying and deleting internal snapshots, as QEMU's qcow2-snapshot.c: a snapshot is a copy of
 * the active L1 table whose L2 tables and data clusters gain a reference (and so lose their "refcount
 * is one" flag: a later write must copy them first, which is why Siphon writes no guest data into an
 * image with snapshots). Works on the image's {@link Qcow2Metadata}; callers hold its locks.
 */
final class Qcow2Snapshots {
    private final Qcow2Metadata metadata;
    private final Path path;
    private final Geometry geometry;

    Qcow2Snapshots(Qcow2Metadata metadata) {
        this.metadata = metadata;
        this.path = metadata.path();
        this.geometry = metadata.geometry();
    }

    /**
     * Takes a disk-only snapshot named {@code name}: the L1 copy and the raised refcounts are durable
     * before the new snapshot table, which is durable before the header names it.
     */
    void create(String name, long dateSeconds, long dateNanos, long sizeBytes) throws IOException {
        Qcow2Header header = metadata.header();
        List<SnapshotTable.Entry> entries = new ArrayList<>(SnapshotTable.read(metadata.file(), header));
        if (entries.size() >= SnapshotTable.MAX_SNAPSHOTS) {
            throw Errors.refused(path, "nb_snapshots", "the image has QEMU's maximum of snapshots already");
        }
        long nextId = 1;
        for (SnapshotTable.Entry entry : entries) {
            try {
                nextId = Math.max(nextId, Long.parseLong(entry.snapshot().id()) + 1);
            } catch (NumberFormatException e) {
                // QEMU skips IDs that are not numbers too
            }
        }
        metadata.flush();
        L1Table l1 = metadata.l1();
        long[] active = new long[l1.size()];
        for (int i = 0; i < active.length; i++) {
            active[i] = l1.entry(i);
        }
        long l1Offset = 0;
        if (active.length > 0) {
            l1Offset = metadata.allocator().allocate(geometry.clustersFor(active.length * 8L));
            metadata.file().writeFully(l1Offset, TableEntries.encode(active, 0, active.length));
            metadata.order().wrote();
        }
        addReferences(active);
        for (int i = 0; i < active.length; i++) {
            if ((active[i] & L1Table.OFFSET_MASK) != 0) {
                l1.set(i, active[i] & ~L1Table.COPIED);
            }
        }
        metadata.flush();
        entries.add(new SnapshotTable.Entry(
                new ImageSnapshot(Long.toString(nextId), name, dateSeconds, dateNanos, 0, 0, OptionalLong.of(0)),
                l1Offset,
                l1.size(),
                sizeBytes,
                0));
        writeTable(header, entries);
    }

    /** Deletes the first snapshot named {@code name}: gone from the table first, its references then. */
    void delete(String name) throws IOException {
        Qcow2Header header = metadata.header();
        List<SnapshotTable.Entry> entries = new ArrayList<>(SnapshotTable.read(metadata.file(), header));
        SnapshotTable.Entry gone = find(entries, name);
        entries.remove(gone);
        metadata.flush();
        writeTable(header, entries);
        if (gone.l1Size() > 0) {
            dropTables(readL1(gone));
            metadata.allocator().free(gone.l1TableOffset(), gone.l1Size() * 8L);
        }
        Qcow2Metadata.FlushStage.REFCOUNT_DECREMENTS.run(metadata);
        new Qcow2Checker(metadata).fixFlags(); // clusters only the active tables still reference
    }

    /**
     * Reverts the disk to the first snapshot named {@code name}, as QEMU's qcow2_snapshot_goto: the
     * virtual size becomes the snapshot's (the L1 table grown to hold the snapshot's when it is
     * smaller); every L2 table and cluster the snapshot reaches gains a reference, durably, before
     * the active L1 table is overwritten with the snapshot's (zero past its end); only then are the
     * references of the old active tables dropped, and the "refcount is one" flags set again.
     */
    void apply(String name) throws IOException {
        Qcow2Header header = metadata.header();
        SnapshotTable.Entry target = find(SnapshotTable.read(metadata.file(), header), name);
        metadata.flush();
        long wanted = Math.max(target.l1Size(), geometry.l1EntriesFor(target.diskSizeBytes()));
        if (wanted > metadata.l1().size()) {
            metadata.growL1(wanted, header.sizeBytes());
        }
        if (target.diskSizeBytes() != metadata.header().sizeBytes()) {
            metadata.writeHeader(metadata.header().withSize(target.diskSizeBytes()));
        }
        long[] restored = readL1(target);
        addReferences(restored);
        metadata.allocator().flush();
        metadata.order().barrier();
        CrashPoints.reach("qcow2.snapshot.apply.raised");
        L1Table l1 = metadata.l1();
        long[] old = new long[l1.size()];
        MetadataClusters clusters = metadata.clusters();
        for (int i = 0; i < old.length; i++) {
            old[i] = l1.entry(i);
            long entry = i < restored.length ? restored[i] & ~L1Table.COPIED : 0; // shared now
            if (entry != old[i]) {
                l1.set(i, entry);
            }
        }
        Qcow2Metadata.FlushStage.L1_ENTRIES.run(metadata);
        CrashPoints.reach("qcow2.snapshot.apply.switched");
        for (long entry : old) {
            long l2Offset = entry & L1Table.OFFSET_MASK;
            if (l2Offset != 0) {
                clusters.unmark(l2Offset, geometry.clusterSize());
            }
        }
        for (long entry : restored) {
            long l2Offset = entry & L1Table.OFFSET_MASK;
            if (l2Offset != 0) {
                clusters.mark(l2Offset, geometry.clusterSize());
            }
        }
        dropTables(old);
        Qcow2Metadata.FlushStage.REFCOUNT_DECREMENTS.run(metadata);
        new Qcow2Checker(metadata).fixFlags();
        metadata.flush();
    }

    private SnapshotTable.Entry find(List<SnapshotTable.Entry> entries, String name) throws IOException {
        return entries.stream()
                .filter(e -> e.snapshot().name().equals(name))
                .findFirst()
                .orElseThrow(() -> Errors.refused(path, "snapshot", "snapshot '" + name + "' not found"));
    }

    /** A snapshot's L1 table as stored. */
    private long[] readL1(SnapshotTable.Entry snapshot) throws IOException {
        ByteBuffer table = ByteBuffer.allocate(snapshot.l1Size() * 8);
        metadata.file().readFully(snapshot.l1TableOffset(), table);
        long[] entries = new long[snapshot.l1Size()];
        for (int i = 0; i < entries.length; i++) {
            entries[i] = table.getLong(i * 8);
        }
        return entries;
    }

    /** Queues one decrement for every L2 table {@code l1Entries} names and every cluster those reference. */
    private void dropTables(long[] l1Entries) throws IOException {
        for (long entry : l1Entries) {
            long l2Offset = entry & L1Table.OFFSET_MASK;
            if (l2Offset != 0) {
                dropReferences(l2Offset);
                metadata.allocator().free(l2Offset, geometry.clusterSize());
            }
        }
    }

    /**
     * One more reference to every L2 table and cluster {@code l1Entries} reach; their "refcount is
     * one" flags cleared (they are shared now).
     */
    private void addReferences(long[] l1Entries) throws IOException {
        ClusterAllocator allocator = metadata.allocator();
        MetadataCache l2Cache = metadata.l2Cache();
        for (long l1Entry : l1Entries) {
            long l2Offset = l1Entry & L1Table.OFFSET_MASK;
            if (l2Offset == 0) {
                continue;
            }
            ByteBuffer l2 = l2Cache.get(l2Offset);
            for (int j = 0; j < geometry.l2Entries(); j++) {
                long entry = L2Entry.read(l2, geometry, j);
                if (reference(entry, allocator::increment) && L2Entry.copied(entry)) {
                    l2 = l2Cache.get(l2Offset); // an increment may have evicted it
                    l2.putLong(j * geometry.l2EntryBytes(), entry & ~L2Entry.COPIED);
                    l2Cache.markDirty(l2Offset);
                }
            }
            allocator.increment(l2Offset, 1);
        }
    }

    /** Queues one decrement for every cluster a snapshot's L2 table references. */
    private void dropReferences(long l2Offset) throws IOException {
        ByteBuffer l2 = metadata.l2Cache().get(l2Offset).duplicate();
        long[] entries = new long[geometry.l2Entries()];
        for (int j = 0; j < entries.length; j++) {
            entries[j] = L2Entry.read(l2, geometry, j);
        }
        ClusterAllocator allocator = metadata.allocator();
        for (long entry : entries) {
            reference(entry, (offset, clusters) -> allocator.free(offset, clusters * geometry.clusterSize()));
        }
    }

    private interface ClusterRange {
        void apply(long offsetBytes, long clusters) throws IOException;
    }

    /** Applies {@code action} to the host clusters an L2 entry references; whether there were any. */
    private boolean reference(long entry, ClusterRange action) throws IOException {
        switch (L2Entry.kind(entry)) {
            case DATA, ZERO_ALLOC -> {
                action.apply(L2Entry.offset(entry), 1);
                return true;
            }
            case COMPRESSED -> {
                CompressedClusterReader compressed = metadata.compressed();
                long start = compressed.hostOffset(entry) & ~511L;
                long end = compressed.hostOffset(entry) + compressed.storedBytes(entry);
                long first = start >>> geometry.clusterBits();
                long last = (end - 1) >>> geometry.clusterBits();
                action.apply(first << geometry.clusterBits(), last - first + 1);
                return true;
            }
            default -> {
                return false;
            }
        }
    }

    /** Writes {@code entries} as a new table, makes the header name it, then frees the old table. */
    private void writeTable(Qcow2Header header, List<SnapshotTable.Entry> entries) throws IOException {
        long oldOffset = header.snapshotsOffset();
        long oldBytes = 0;
        for (SnapshotTable.Entry entry : SnapshotTable.read(metadata.file(), header)) {
            oldBytes += entry.storedBytes();
        }
        long offset = 0;
        if (!entries.isEmpty()) {
            ByteBuffer table = SnapshotTable.encode(entries);
            offset = metadata.allocator().allocate(geometry.clustersFor(table.remaining()));
            metadata.file().writeFully(offset, table);
            metadata.allocator().flush();
            metadata.order().wrote();
        }
        metadata.writeHeader(metadata.header().withSnapshots(entries.size(), offset));
        if (header.nbSnapshots() > 0 && oldBytes > 0) {
            metadata.allocator().free(oldOffset, oldBytes);
            Qcow2Metadata.FlushStage.REFCOUNT_DECREMENTS.run(metadata);
        }
    }
}
