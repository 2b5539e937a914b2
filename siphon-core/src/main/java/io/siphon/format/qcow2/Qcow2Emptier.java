package io.siphon.format.qcow2;

import io.siphon.format.ImageFile;
import io.siphon.util.CrashPoints;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Empties an image as QEMU's qcow2_make_empty (what {@code qemu-img commit} leaves of the top):
 * a version 3 image with no snapshots or bitmaps whose L1 table fits one refcount block is
 * rewritten to the smallest layout (header, a one-cluster refcount table at cluster 1, one refcount
 * block at cluster 2, the zeroed L1 table from cluster 3, the file cut there: QEMU's
 * make_completely_empty); any other image has every cluster unmapped. The rewrite runs under the
 * dirty bit, so that a crash part-way is repaired (refcounts rebuilt) at the next writable open.
 * Works on the image's {@link Qcow2Metadata}; callers hold its locks.
 */
final class Qcow2Emptier {
    private final Qcow2Metadata metadata;

    Qcow2Emptier(Qcow2Metadata metadata) {
        this.metadata = metadata;
    }

    /** Whether the image can be rewritten to the smallest layout (else {@link Qcow2ClusterMap#unmapAll}). */
    boolean canRewrite() throws IOException {
        Qcow2Header header = metadata.header();
        Geometry geometry = metadata.geometry();
        long l1Clusters = geometry.clustersFor(metadata.l1().size() * 8L);
        return header.version() >= 3
                && header.nbSnapshots() == 0
                && BitmapDirectory.read(metadata.file(), header).isEmpty()
                && 3 + l1Clusters <= geometry.refcountBlockEntries();
    }

    /** Rewrites the image to the smallest layout; the caller has checked {@link #canRewrite}. */
    void rewrite() throws IOException {
        metadata.flush();
        ImageFile file = metadata.file();
        Geometry geometry = metadata.geometry();
        int clusterSize = geometry.clusterSize();
        int l1Size = metadata.l1().size();
        long l1Clusters = geometry.clustersFor(l1Size * 8L);
        Qcow2Header header = metadata.header();
        long clean = header.incompatibleFeatures() & ~Qcow2Header.INCOMPAT_DIRTY;
        metadata.writeHeader(header.withIncompatibleFeatures(clean | Qcow2Header.INCOMPAT_DIRTY));
        // nothing is reachable once the L1 table reads empty; then the clusters of the new layout
        Zeroes.write(file, header.l1TableOffset(), l1Clusters * clusterSize);
        file.flush();
        Zeroes.write(file, clusterSize, (2 + l1Clusters) * clusterSize);
        file.flush();
        CrashPoints.reach("qcow2.empty.zeroed");
        Qcow2Header moved = metadata.header().withRefcountTable(clusterSize, 1).withL1(3L * clusterSize, l1Size);
        metadata.writeHeader(moved);
        file.writeFully(clusterSize, ByteBuffer.allocate(8).putLong(0, 2L * clusterSize));
        ByteBuffer block = ByteBuffer.allocate(clusterSize);
        for (long c = 0; c < 3 + l1Clusters; c++) {
            RefcountBlock.set(block, c, geometry.refcountBits(), 1);
        }
        file.writeFully(2L * clusterSize, block);
        file.truncate((3 + l1Clusters) * clusterSize);
        file.flush();
        CrashPoints.reach("qcow2.empty.rewritten");
        metadata.switchToRebuiltRefcounts(moved.withIncompatibleFeatures(clean));
    }
}
