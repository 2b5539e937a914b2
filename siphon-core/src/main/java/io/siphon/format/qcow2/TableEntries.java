package io.siphon.format.qcow2;

import io.siphon.format.ImageFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.BitSet;

/** Writing back arrays of 8-byte big-endian table entries (L1 and refcount tables). */
final class TableEntries {
    private static final int ENTRIES_PER_SECTOR = 64;

    private TableEntries() {}

    /** Writes each 512-byte sector holding a dirty entry, then clears {@code dirty}. */
    static void writeDirty(ImageFile file, long offset, long[] entries, BitSet dirty) throws IOException {
        for (int i = dirty.nextSetBit(0); i >= 0; i = dirty.nextSetBit(i)) {
            int first = i - i % ENTRIES_PER_SECTOR;
            int last = Math.min(first + ENTRIES_PER_SECTOR, entries.length);
            file.writeFully(offset + first * 8L, encode(entries, first, last));
            i = last;
        }
        dirty.clear();
    }

    static ByteBuffer encode(long[] entries, int from, int to) {
        ByteBuffer out = ByteBuffer.allocate((to - from) * 8);
        for (int i = from; i < to; i++) {
            out.putLong(entries[i]);
        }
        return out.flip();
    }
}
