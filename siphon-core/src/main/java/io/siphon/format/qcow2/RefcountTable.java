package io.siphon.format.qcow2;

import io.siphon.format.ImageFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.BitSet;

/**
 * The refcount table: a contiguous array of 8-byte offsets of refcount blocks, held in memory and
 * written back entry-wise. Its size is bounded by the header check (at most 8 MiB). Not
 * thread-safe.
 */
final class RefcountTable {
    static final long OFFSET_MASK = 0xfffffffffffffe00L;
    private static final long RESERVED_MASK = 0x1ffL;

    private long offset;
    private int clusters;
    private long[] entries;
    private final BitSet dirty = new BitSet();

    private RefcountTable(long offset, int clusters, long[] entries) {
        this.offset = offset;
        this.clusters = clusters;
        this.entries = entries;
    }

    /** Reads the table and checks every entry against the file and the table's own place. */
    static RefcountTable read(ImageFile file, Qcow2Header header, long fileSize) throws IOException {
        Path path = file.path();
        int count = (int) (header.refcountTableBytes() / 8);
        ByteBuffer bytes = ByteBuffer.allocate(count * 8);
        file.readFully(header.refcountTableOffset(), bytes);
        bytes.flip();
        long[] entries = new long[count];
        int clusterSize = header.clusterSize();
        for (int i = 0; i < count; i++) {
            long entry = bytes.getLong();
            if (entry == 0) {
                continue;
            }
            long blockOffset = entry & OFFSET_MASK;
            String field = "refcount table entry " + i;
            if ((entry & RESERVED_MASK) != 0 || (blockOffset & (clusterSize - 1)) != 0) {
                throw Errors.malformed(path, field, Errors.hex(entry) + " is not a cluster-aligned offset");
            }
            if (blockOffset < clusterSize || blockOffset > fileSize - clusterSize) {
                throw Errors.malformed(
                        path, field, "refcount block at " + blockOffset + " is in the header or past end of file");
            }
            if (Qcow2Header.overlaps(
                    blockOffset, clusterSize, header.refcountTableOffset(), header.refcountTableBytes())) {
                throw Errors.malformed(
                        path, field, "refcount block at " + blockOffset + " overlaps the refcount table");
            }
            entries[i] = blockOffset;
        }
        return new RefcountTable(header.refcountTableOffset(), header.refcountTableClusters(), entries);
    }

    long offset() {
        return offset;
    }

    int clusters() {
        return clusters;
    }

    int size() {
        return entries.length;
    }

    /** Offset of refcount block {@code index}, 0 when absent or beyond the table. */
    long blockOffset(long index) {
        return index < entries.length ? entries[(int) index] : 0;
    }

    void setBlockOffset(int index, long blockOffset) {
        entries[index] = blockOffset;
        dirty.set(index);
    }

    boolean isDirty() {
        return !dirty.isEmpty();
    }

    /** Enlarges the in-memory table; it reaches the disk through {@link #relocate}. */
    void growTo(int newEntries) {
        entries = java.util.Arrays.copyOf(entries, newEntries);
    }

    /** Writes the dirty entries in place, in 512-byte sectors. */
    void writeDirty(ImageFile file) throws IOException {
        TableEntries.writeDirty(file, offset, entries, dirty);
    }

    /**
     * Writes the dirty entries that lie within the table's clusters in place, as QEMU hooks each new
     * block into the table it has; those past its end reach the disk through {@link #relocate}.
     */
    void writeDirtyWithin(ImageFile file, int clusterSize) throws IOException {
        int capacity = (int) Math.min(entries.length, (long) clusters * clusterSize / 8);
        TableEntries.writeDirty(file, offset, java.util.Arrays.copyOf(entries, capacity), dirty.get(0, capacity));
    }

    /** Writes the whole table to {@code newOffset} (not yet referenced by the header) and moves there. */
    void relocate(ImageFile file, long newOffset, int newClusters) throws IOException {
        file.writeFully(newOffset, TableEntries.encode(entries, 0, entries.length));
        offset = newOffset;
        clusters = newClusters;
        dirty.clear();
    }
}
