package io.siphon.format.qcow2;

import io.siphon.format.ImageFile;
import io.siphon.format.Preallocation;
import java.io.IOException;

/**
 * {@code create -o preallocation=} for qcow2, laid out as QEMU 7.2 lays it out. {@code metadata}
 * (QEMU's preallocate_co): for each L2 table's range, the L2 table, then its data clusters
 * allocated but not written; the file ends at the disk's last byte, or after the last metadata
 * cluster if a refcount block came after it. {@code falloc} and {@code full}
 * (qcow2_co_truncate): refcount structures for everything first (a new refcount table at the end
 * of the file), the data clusters after them allocated in the file (fallocate) or written with
 * zeroes, then the L2 tables (the first in the old refcount table's cluster). Every data cluster's
 * L2 entry is plain data with refcount 1. Works on a new image's {@link Qcow2Metadata}; callers
 * hold its locks.
 */
final class Qcow2Preallocator {
    private final Qcow2Metadata metadata;
    private final Qcow2ClusterMap map;
    private final long sizeBytes;

    Qcow2Preallocator(Qcow2Metadata metadata, Qcow2ClusterMap map, long sizeBytes) {
        this.metadata = metadata;
        this.map = map;
        this.sizeBytes = sizeBytes;
    }

    void run(Preallocation mode) throws IOException {
        Geometry geometry = metadata.geometry();
        int clusterSize = geometry.clusterSize();
        long clusters = geometry.clustersFor(sizeBytes);
        int perTable = geometry.l2Entries();
        ImageFile file = metadata.file();
        if (clusters == 0 || mode == Preallocation.OFF) {
            return;
        }
        if (mode == Preallocation.METADATA) {
            long lastHost = 0;
            for (long c = 0; c < clusters; ) {
                int n = (int) Math.min(clusters - c, perTable - c % perTable);
                lastHost = map.linkRun(c * clusterSize, -1, n) + (long) (n - 1) * clusterSize;
                c += n;
            }
            metadata.flush();
            // as preallocate_co, which only grows the file: a refcount block placed after the last
            // data cluster (small clusters) keeps the file ending after it
            long dataEnd = lastHost + (sizeBytes - (clusters - 1) * clusterSize);
            file.truncate(Math.max(dataEnd, metadata.clusters().endBytes()));
            return;
        }
        ClusterAllocator allocator = metadata.allocator();
        long tables = (clusters + perTable - 1) / perTable + 1; // one more for a head or tail
        long start = geometry.clusterOffset(allocator.fileEnd() + clusterSize - 1);
        long dataStart = allocator.reserveArea(start, clusters + tables);
        metadata.flush(); // frees the old refcount table's cluster
        file.preallocate(dataStart, clusters * clusterSize, mode == Preallocation.FULL);
        allocator.claimRun(dataStart, clusters);
        for (long c = 0; c < clusters; ) {
            int n = (int) Math.min(clusters - c, perTable - c % perTable);
            map.linkRun(c * clusterSize, dataStart + c * clusterSize, n);
            c += n;
        }
        metadata.flush();
    }
}
