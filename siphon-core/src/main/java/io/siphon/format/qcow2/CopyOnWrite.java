package io.siphon.format.qcow2;

import io.siphon.format.ImageFile;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Writes guest data into host space with the old content around it (copy-on-write): guest
 * {@code [copyStart, copyEnd)} is written, the data for {@code [start, end)} and, around it,
 * what the guest reads there now (the backing's data, zeroes or an old cluster). The span is a
 * run of clusters, or of subclusters with extended L2 entries. Not thread-safe: the cluster map
 * calls it with the image's I/O lock held exclusively.
 */
final class CopyOnWrite {
    private final ImageFile file;
    private final Geometry geometry;
    private final long sizeBytes;
    private final Qcow2ClusterMap.GuestReader oldContent;

    CopyOnWrite(ImageFile file, Geometry geometry, long sizeBytes, Qcow2ClusterMap.GuestReader oldContent) {
        this.file = file;
        this.geometry = geometry;
        this.sizeBytes = sizeBytes;
        this.oldContent = oldContent;
    }

    /**
     * Writes guest {@code [copyStart, copyEnd)} at host {@code guestToHost + guest offset}. A span
     * that fits one cluster is one write; otherwise the partial head and tail clusters are one each,
     * and the middle goes as it is.
     */
    void write(long guestToHost, long copyStart, long start, long end, long copyEnd, ByteBuffer data)
            throws IOException {
        if (copyStart == start && copyEnd == end) {
            file.writeFully(guestToHost + start, data);
            return;
        }
        int clusterSize = geometry.clusterSize();
        long headEnd = start;
        if (copyStart < start || copyEnd - copyStart <= clusterSize) {
            headEnd = copyEnd - copyStart <= clusterSize ? copyEnd : geometry.clusterOffset(start) + clusterSize;
            file.writeFully(guestToHost + copyStart, piece(copyStart, headEnd, start, end, data));
        }
        if (headEnd >= copyEnd) {
            return;
        }
        long tailStart = end < copyEnd ? Math.max(headEnd, geometry.clusterOffset(end - 1)) : end;
        if (tailStart > headEnd) {
            file.writeFully(guestToHost + headEnd, data.slice((int) (headEnd - start), (int) (tailStart - headEnd)));
        }
        if (copyEnd > tailStart) {
            file.writeFully(guestToHost + tailStart, piece(tailStart, copyEnd, start, end, data));
        }
    }

    /** Guest bytes {@code [from, to)}: {@code data} (guest {@code [start, end)}) where it covers them, else what reads there now. */
    ByteBuffer piece(long from, long to, long start, long end, ByteBuffer data) throws IOException {
        byte[] bytes = new byte[(int) (to - from)];
        if (from < start && to > end) {
            readOld(from, bytes, 0, bytes.length); // one read of the old content on both sides
        } else if (from < start) {
            readOld(from, bytes, 0, (int) (Math.min(to, start) - from));
        } else if (to > end) {
            long oldFrom = Math.max(from, end);
            readOld(oldFrom, bytes, (int) (oldFrom - from), (int) (to - oldFrom));
        }
        long dataFrom = Math.max(from, start);
        long dataTo = Math.min(to, end);
        if (dataTo > dataFrom) {
            data.get((int) (dataFrom - start), bytes, (int) (dataFrom - from), (int) (dataTo - dataFrom));
        }
        return ByteBuffer.wrap(bytes);
    }

    /** What the guest reads at {@code [guestOffset, + length)} now, into {@code bytes}; zeroes past the disk's end. */
    private void readOld(long guestOffset, byte[] bytes, int offset, int length) throws IOException {
        int inside = (int) Math.max(0, Math.min(length, sizeBytes - guestOffset));
        if (inside > 0) {
            oldContent.read(guestOffset, ByteBuffer.wrap(bytes, offset, inside));
        }
    }
}
