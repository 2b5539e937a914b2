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

    private static final int CHUNK_BYTES = 1 << 20;

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
        long[] entries = new long[header.tableEntries()];
        // in chunks: a table of 64 MiB clusters is up to 1 GiB, never held twice
        ByteBuffer chunk =
                ByteBuffer.allocate(Math.min(header.tableBytes(), CHUNK_BYTES)).order(ByteOrder.LITTLE_ENDIAN);
        for (int done = 0; done < entries.length; ) {
            int count = Math.min(entries.length - done, chunk.capacity() / Long.BYTES);
            chunk.clear().limit(count * Long.BYTES);
            file.readZeroPadded(fileOffset + (long) done * Long.BYTES, chunk);
            chunk.flip().asLongBuffer().get(entries, done, count);
            done += count;
        }
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
        ByteBuffer chunk = ByteBuffer.allocate(Math.min((end - start) * Long.BYTES, CHUNK_BYTES))
                .order(ByteOrder.LITTLE_ENDIAN);
        for (int done = start; done < end; ) {
            int n = Math.min(end - done, chunk.capacity() / Long.BYTES);
            chunk.clear();
            chunk.asLongBuffer().put(entries, done, n);
            chunk.limit(n * Long.BYTES);
            file.writeFully(fileOffset + (long) done * Long.BYTES, chunk);
            done += n;
        }
    }

    /** Writes the whole table. */
    void writeAll(ImageFile file) throws IOException {
        writeEntries(file, 0, entries.length);
    }
}
