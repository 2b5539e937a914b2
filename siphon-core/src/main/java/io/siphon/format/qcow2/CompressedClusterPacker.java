package io.siphon.format.qcow2;

import java.io.IOException;

/**
 * Where compressed clusters go, as QEMU's qcow2_alloc_bytes: byte ranges packed one after another
 * into shared host clusters (a range may run on into the next host cluster when that one is the
 * next free), each host cluster counting one reference per compressed cluster that touches it;
 * and the L2 descriptor of such a range (host offset, and its 512-byte sectors less one above
 * {@link Geometry#compressedSizeShift}). Not thread-safe: callers hold the image's metadata lock.
 */
final class CompressedClusterPacker {
    private final Geometry geometry;
    /** Where the next range starts; 0 when the next one starts a new host cluster. */
    private long freeByteOffset;

    CompressedClusterPacker(Geometry geometry) {
        this.geometry = geometry;
    }

    /** Claims {@code bytes} (less than a cluster) and raises the refcounts they touch; the host offset. */
    long place(ClusterAllocator allocator, int bytes) throws IOException {
        int clusterSize = geometry.clusterSize();
        long offset = freeByteOffset;
        if (offset != 0 && allocator.refcount(geometry.clusterIndex(offset)) >= geometry.maxRefcount()) {
            offset = 0;
        }
        long freeInCluster = clusterSize - geometry.offsetInCluster(offset);
        long fresh = -1;
        if (offset == 0 || freeInCluster < bytes) {
            fresh = allocator.allocate(1); // its refcount of one is this range's reference
            if (offset == 0 || geometry.clusterOffset(offset) + clusterSize != fresh) {
                offset = fresh;
            }
        }
        long first = geometry.clusterIndex(offset);
        long last = geometry.clusterIndex(offset + bytes - 1);
        for (long c = first; c <= last; c++) {
            if (c << geometry.clusterBits() != fresh) {
                allocator.increment(c << geometry.clusterBits(), 1);
            }
        }
        freeByteOffset = geometry.offsetInCluster(offset + bytes) == 0 ? 0 : offset + bytes;
        return offset;
    }

    /** Starts the next range in a new host cluster (the current one may be freed). */
    void forget() {
        freeByteOffset = 0;
    }

    /** The L2 entry of a compressed cluster stored in {@code bytes} at {@code hostOffset}. */
    long descriptor(long hostOffset, int bytes) {
        long sectors = ((hostOffset + bytes - 1) >>> 9) - (hostOffset >>> 9);
        return L2Entry.COMPRESSED | (sectors << geometry.compressedSizeShift()) | hostOffset;
    }
}
