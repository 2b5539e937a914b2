package io.siphon.format.qcow2;

import io.siphon.format.ImageFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A write-back LRU cache of one-cluster metadata tables (L2 tables or refcount blocks), keyed by
 * their offset in the file. A dirty table is written only after {@link Barrier#beforeWrite} has
 * made what it depends on durable: that dependency is how crash ordering is held as data. Not
 * thread-safe: callers hold the image's metadata lock.
 */
final class MetadataCache {
    /** What must be durable before a table of this cache is written. */
    interface Barrier {
        void beforeWrite() throws IOException;
    }

    private static final class Entry {
        final byte[] bytes;
        boolean dirty;

        Entry(byte[] bytes) {
            this.bytes = bytes;
        }
    }

    private final ImageFile file;
    private final WriteOrder order;
    private final int clusterSize;
    private final int capacity;
    private final Barrier barrier;
    private final LinkedHashMap<Long, Entry> entries = new LinkedHashMap<>(16, 0.75f, true);

    MetadataCache(ImageFile file, WriteOrder order, int clusterSize, long budgetBytes, Barrier barrier) {
        this.file = file;
        this.order = order;
        this.clusterSize = clusterSize;
        this.capacity = (int) Math.max(4, Math.min(4096, budgetBytes / clusterSize));
        this.barrier = barrier;
    }

    /** The table at {@code offset}, read from the file if not cached. The caller validated the offset. */
    ByteBuffer get(long offset) throws IOException {
        Entry entry = entries.get(offset);
        if (entry == null) {
            byte[] bytes = new byte[clusterSize];
            file.readZeroPadded(offset, ByteBuffer.wrap(bytes));
            entry = insert(offset, bytes);
        }
        return ByteBuffer.wrap(entry.bytes);
    }

    /** A new all-zero table at {@code offset}, dirty, replacing whatever the file holds there. */
    ByteBuffer create(long offset) throws IOException {
        Entry entry = insert(offset, new byte[clusterSize]);
        entry.dirty = true;
        return ByteBuffer.wrap(entry.bytes);
    }

    /** Marks the table at {@code offset}, which must be cached, as changed. */
    void markDirty(long offset) {
        Entry entry = entries.get(offset);
        if (entry == null) {
            throw new IllegalStateException("table at " + offset + " is not cached");
        }
        entry.dirty = true;
    }

    boolean hasDirty() {
        for (Entry entry : entries.values()) {
            if (entry.dirty) {
                return true;
            }
        }
        return false;
    }

    /** Writes every dirty table, after the barrier. Tables stay cached. */
    void flush() throws IOException {
        List<Map.Entry<Long, Entry>> dirty = new ArrayList<>();
        for (Map.Entry<Long, Entry> e : entries.entrySet()) {
            if (e.getValue().dirty) {
                dirty.add(e);
            }
        }
        if (dirty.isEmpty()) {
            return;
        }
        barrier.beforeWrite();
        dirty.sort(Map.Entry.comparingByKey());
        for (Map.Entry<Long, Entry> e : dirty) {
            write(e.getKey(), e.getValue());
        }
    }

    /** Drops every table without writing (after a rebuild replaced them on disk). */
    void clear() {
        entries.clear();
    }

    private Entry insert(long offset, byte[] bytes) throws IOException {
        while (entries.size() >= capacity) {
            Iterator<Map.Entry<Long, Entry>> eldest = entries.entrySet().iterator();
            Map.Entry<Long, Entry> victim = eldest.next();
            if (victim.getValue().dirty) {
                barrier.beforeWrite();
                write(victim.getKey(), victim.getValue());
            }
            entries.remove(victim.getKey());
        }
        Entry entry = new Entry(bytes);
        entries.put(offset, entry);
        return entry;
    }

    private void write(long offset, Entry entry) throws IOException {
        file.writeFully(offset, ByteBuffer.wrap(entry.bytes));
        entry.dirty = false;
        order.wrote();
    }
}
