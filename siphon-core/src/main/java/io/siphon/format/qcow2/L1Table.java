package io.siphon.format.qcow2;

import io.siphon.format.ImageFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.BitSet;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * The active L1 table: one 8-byte entry per L2 table (bits 9-55 the L2 table's offset, bit 63
 * "refcount is exactly one"), held in memory (at most 32 MiB, as QEMU) and written back in
 * 512-byte sectors. Not thread-safe.
 */
final class L1Table {
    static final long OFFSET_MASK = 0x00fffffffffffe00L;
    static final long COPIED = 1L << 63;
    private static final long RESERVED_MASK = 0x7f000000000001ffL;

    private final long offset;
    private final long[] entries;
    private final BitSet dirty = new BitSet();
    private final Map<Integer, Long> rejected;

    private L1Table(long offset, long[] entries, Map<Integer, Long> rejected) {
        this.offset = offset;
        this.entries = entries;
        this.rejected = Collections.unmodifiableMap(rejected);
    }

    /**
     * Reads the table and checks that every L2 table it names lies inside the file, clear of the
     * header and the L1 and refcount tables. {@code lenient} (a read-only check, which must report
     * what it finds as qemu-img check does, not refuse the image) keeps an entry that fails as
     * {@linkplain #rejected() rejected} and reads it as 0, so no lookup follows it.
     */
    static L1Table read(ImageFile file, Qcow2Header header, long fileSize, boolean lenient) throws IOException {
        Path path = file.path();
        ByteBuffer bytes = ByteBuffer.allocate(header.l1Size() * 8);
        file.readFully(header.l1TableOffset(), bytes);
        bytes.flip();
        long[] entries = new long[header.l1Size()];
        Map<Integer, Long> rejected = new TreeMap<>();
        for (int i = 0; i < entries.length; i++) {
            long entry = bytes.getLong();
            long l2Offset = entry & OFFSET_MASK;
            if (l2Offset == 0) {
                // no L2 table: unallocated, whatever flags it carries (the check reports and clears them)
                entries[i] = entry;
                continue;
            }
            String problem = problem(header, entries.length, fileSize, entry);
            if (problem.isEmpty()) {
                entries[i] = entry;
            } else if (lenient) {
                rejected.put(i, entry);
            } else {
                throw Errors.malformed(path, "L1 entry " + i, problem);
            }
        }
        return new L1Table(header.l1TableOffset(), entries, rejected);
    }

    /** What is wrong with a non-zero entry, or "" when it is a usable L2 table offset. */
    private static String problem(Qcow2Header header, int l1Entries, long fileSize, long entry) {
        long l2Offset = entry & OFFSET_MASK;
        int clusterSize = header.clusterSize();
        if ((entry & RESERVED_MASK) != 0 || (l2Offset & (clusterSize - 1)) != 0) {
            return Errors.hex(entry) + " is not a cluster-aligned L2 table offset";
        }
        if (l2Offset < clusterSize || l2Offset > fileSize - clusterSize) {
            return "L2 table at " + l2Offset + " is in the header or past the end of the file";
        }
        if (Qcow2Header.overlaps(l2Offset, clusterSize, header.l1TableOffset(), l1Entries * 8L)
                || Qcow2Header.overlaps(
                        l2Offset, clusterSize, header.refcountTableOffset(), header.refcountTableBytes())) {
            return "L2 table at " + l2Offset + " overlaps the L1 or refcount table";
        }
        return "";
    }

    /** Entries a lenient read refused, by index, as stored in the file (they read as 0). */
    Map<Integer, Long> rejected() {
        return rejected;
    }

    long offset() {
        return offset;
    }

    int size() {
        return entries.length;
    }

    long entry(int index) {
        return entries[index];
    }

    void set(int index, long entry) {
        entries[index] = entry;
        dirty.set(index);
    }

    boolean isDirty() {
        return !dirty.isEmpty();
    }

    /** Writes the dirty entries, each in its 512-byte sector. */
    void writeDirty(ImageFile file) throws IOException {
        TableEntries.writeDirty(file, offset, entries, dirty);
    }
}
