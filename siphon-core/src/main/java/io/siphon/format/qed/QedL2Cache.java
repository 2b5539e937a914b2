package io.siphon.format.qed;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Recently used L2 tables by file offset, least recently used evicted first. Write-through: a
 * table is changed here and on disk together, so eviction never loses anything. Not thread-safe:
 * the image guards it with its table lock.
 */
final class QedL2Cache {
    /** Memory the cache may hold, whatever the table size. */
    private static final long BUDGET_BYTES = 16L << 20;

    private final LinkedHashMap<Long, QedTable> tables;

    QedL2Cache(QedHeader header) {
        int capacity = (int) Math.max(2, Math.min(64, BUDGET_BYTES / header.tableBytes()));
        this.tables = new LinkedHashMap<>(capacity * 2, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<Long, QedTable> eldest) {
                return size() > capacity;
            }
        };
    }

    Optional<QedTable> find(long fileOffset) {
        return Optional.ofNullable(tables.get(fileOffset));
    }

    void put(QedTable table) {
        tables.put(table.fileOffset(), table);
    }

    /** Forgets every table, after a repair rewrote tables behind the cache. */
    void clear() {
        tables.clear();
    }
}
