package io.siphon.format.qed;

import io.siphon.format.ImageFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * An L1 or L2 table (qed_spec.txt, "Tables"): {@code table_size} clusters of little-endian 64-bit
 * file offsets. In an L2 table, 0 means unallocated and 1 the zero cluster. Not thread-safe: the
 * image guards tables with its table lock.
 */
final class QedTable {
    static final long UNALLOCATED = 0;
    static final long ZERO_CLUSTER = 1;
    /** Entries in one 512-byte sector: partial updates write whole sectors, as QEMU does. */
    private static final int ENTRIES_PER_SECTOR = QedHeader.SECTOR_BYTES / Long.BYTES;

    private final long fileOffset;
    private final long[] entries;

    QedTable(long fileOffset, long[] entries) {
        this.fileOffset = fileOffset;
        this.entries = entries;
    }

    /** A new all-unallocated table that will live at {@code fileOffset}. */
    static QedTable empty(long fileOffset, QedHeader header) {
        return new QedTable(fileOffset, new long[header.tableEntries()]);
    }

    /** Reads the table at {@code fileOffset}; the caller has checked it lies within the file. */
    static QedTable read(ImageFile file, long fileOffset, QedHeader header) throws IOException {
        ByteBuffer raw = ByteBuffer.allocate(header.tableBytes()).order(ByteOrder.LITTLE_ENDIAN);
        file.readZeroPadded(fileOffset, raw);
        raw.flip();
        long[] entries = new long[header.tableEntries()];
        raw.asLongBuffer().get(entries);
        return new QedTable(fileOffset, entries);
    }

    long fileOffset() {
        return fileOffset;
    }

    int size() {
        return entries.length;
    }

    long get(int index) {
        return entries[index];
    }

    void set(int index, long value) {
        entries[index] = value;
    }

    /** Writes the sectors holding entries {@code [index, index + count)}. */
    void writeEntries(ImageFile file, int index, int count) throws IOException {
        int start = index & -ENTRIES_PER_SECTOR;
        int end = Math.min(entries.length, (index + count + ENTRIES_PER_SECTOR - 1) & -ENTRIES_PER_SECTOR);
        ByteBuffer raw = ByteBuffer.allocate((end - start) * Long.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        raw.asLongBuffer().put(entries, start, end - start);
        file.writeFully(fileOffset + (long) start * Long.BYTES, raw);
    }

    /** Writes the whole table. */
    void writeAll(ImageFile file) throws IOException {
        writeEntries(file, 0, entries.length);
    }
}
