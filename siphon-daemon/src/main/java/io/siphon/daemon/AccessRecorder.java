package io.siphon.daemon;

import io.siphon.block.filter.GuestReadListener;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counts the clusters a guest reads, in the cluster size given, while it is a disk's read listener.
 * New clusters are no longer counted past twice the profile's bound, so memory stays bounded
 * whatever the guest reads. Thread-safe.
 */
final class AccessRecorder implements GuestReadListener {
    private static final int MAX_TRACKED = 2 * AccessProfile.MAX_CLUSTERS;

    private final long clusterBytes;
    private final ConcurrentHashMap<Long, LongAdder> counts = new ConcurrentHashMap<>();

    AccessRecorder(long clusterBytes) {
        this.clusterBytes = clusterBytes;
    }

    long clusterBytes() {
        return clusterBytes;
    }

    @Override
    public void guestRead(long offsetBytes, long lengthBytes) {
        long first = offsetBytes / clusterBytes;
        long last = (offsetBytes + lengthBytes - 1) / clusterBytes;
        for (long cluster = first; cluster <= last; cluster++) {
            LongAdder count = counts.get(cluster * clusterBytes);
            if (count == null) {
                if (counts.size() >= MAX_TRACKED) {
                    continue;
                }
                count = counts.computeIfAbsent(cluster * clusterBytes, k -> new LongAdder());
            }
            count.increment();
        }
    }

    /** Reads per cluster offset so far. */
    Map<Long, Long> reads() {
        Map<Long, Long> reads = new HashMap<>();
        counts.forEach((offset, n) -> reads.put(offset, n.sum()));
        return reads;
    }
}
