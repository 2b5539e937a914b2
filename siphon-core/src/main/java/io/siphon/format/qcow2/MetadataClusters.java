package io.siphon.format.qcow2;

import java.util.BitSet;

/**
 * Which host clusters hold metadata (header, L1 table, refcount table and blocks, L2 tables): a
 * data cluster pointing at one of them would let a guest write overwrite the image's own tables, so
 * such an entry is refused as malformed (QEMU's overlap check). One bit per cluster of the file, so
 * its memory is bounded by the file. Not thread-safe: callers hold the metadata lock.
 */
final class MetadataClusters {
    private final int clusterBits;
    private final BitSet clusters = new BitSet();

    MetadataClusters(int clusterBits) {
        this.clusterBits = clusterBits;
    }

    /** Marks the clusters of {@code [offset, offset + bytes)}; false if any was marked already. */
    boolean mark(long offset, long bytes) {
        boolean fresh = true;
        if (bytes <= 0) {
            return true;
        }
        // past 2^31 clusters (1 TiB of 512-byte clusters) nothing is tracked
        long last = Math.min((offset + bytes - 1) >>> clusterBits, Integer.MAX_VALUE - 1);
        for (long c = offset >>> clusterBits; c <= last; c++) {
            fresh &= !clusters.get((int) c);
            clusters.set((int) c);
        }
        return fresh;
    }

    void unmark(long offset, long bytes) {
        long first = offset >>> clusterBits;
        long last = Math.min((offset + bytes - 1) >>> clusterBits, Integer.MAX_VALUE - 1);
        if (bytes > 0 && first <= last) {
            clusters.clear((int) first, (int) last + 1);
        }
    }

    /** The end of the last metadata cluster: where a file holding all of them must reach at least. */
    long endBytes() {
        return (long) clusters.length() << clusterBits;
    }

    boolean contains(long offset) {
        long c = offset >>> clusterBits;
        return c <= Integer.MAX_VALUE && clusters.get((int) c);
    }
}
