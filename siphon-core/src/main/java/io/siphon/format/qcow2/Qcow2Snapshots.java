package io.siphon.format.qcow2;

import io.siphon.format.ImageSnapshot;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;

/**
 * Creating and deleting internal snapshots, as QEMU's qcow2-snapshot.c: a snapshot is a copy of
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
        long l1Offset = 0;
        if (l1.size() > 0) {
            long[] copy = new long[l1.size()];
            for (int i = 0; i < copy.length; i++) {
                copy[i] = l1.entry(i);
            }
            l1Offset = metadata.allocator().allocate(geometry.clustersFor(copy.length * 8L));
            metadata.file().writeFully(l1Offset, TableEntries.encode(copy, 0, copy.length));
            metadata.order().wrote();
        }
        addReferences(l1);
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
        SnapshotTable.Entry gone = entries.stream()
                .filter(e -> e.snapshot().name().equals(name))
                .findFirst()
                .orElseThrow(() -> Errors.refused(path, "snapshot", "snapshot '" + name + "' not found"));
        entries.remove(gone);
        metadata.flush();
        writeTable(header, entries);
        ClusterAllocator allocator = metadata.allocator();
        if (gone.l1Size() > 0) {
            ByteBuffer table = ByteBuffer.allocate(gone.l1Size() * 8);
            metadata.file().readFully(gone.l1TableOffset(), table);
            for (int i = 0; i < gone.l1Size(); i++) {
                long l2Offset = table.getLong(i * 8) & L1Table.OFFSET_MASK;
                if (l2Offset != 0) {
                    dropReferences(l2Offset);
                    allocator.free(l2Offset, geometry.clusterSize());
                }
            }
            allocator.free(gone.l1TableOffset(), gone.l1Size() * 8L);
        }
        Qcow2Metadata.FlushStage.REFCOUNT_DECREMENTS.run(metadata);
        new Qcow2Checker(metadata).fixFlags(); // clusters only the active tables still reference
    }

    /** One more reference to every L2 table and cluster the active L1 reaches; their flags cleared. */
    private void addReferences(L1Table l1) throws IOException {
        ClusterAllocator allocator = metadata.allocator();
        MetadataCache l2Cache = metadata.l2Cache();
        for (int i = 0; i < l1.size(); i++) {
            long l1Entry = l1.entry(i);
            long l2Offset = l1Entry & L1Table.OFFSET_MASK;
            if (l2Offset == 0) {
                continue;
            }
            ByteBuffer l2 = l2Cache.get(l2Offset);
            for (int j = 0; j < geometry.l2Entries(); j++) {
                long entry = l2.getLong(j * 8);
                if (reference(entry, allocator::increment) && L2Entry.copied(entry)) {
                    l2 = l2Cache.get(l2Offset); // an increment may have evicted it
                    l2.putLong(j * 8, entry & ~L2Entry.COPIED);
                    l2Cache.markDirty(l2Offset);
                }
            }
            allocator.increment(l2Offset, 1);
            l1.set(i, l1Entry & ~L1Table.COPIED);
        }
    }

    /** Queues one decrement for every cluster a snapshot's L2 table references. */
    private void dropReferences(long l2Offset) throws IOException {
        ByteBuffer l2 = metadata.l2Cache().get(l2Offset).duplicate();
        long[] entries = new long[geometry.l2Entries()];
        for (int j = 0; j < entries.length; j++) {
            entries[j] = l2.getLong(j * 8);
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
