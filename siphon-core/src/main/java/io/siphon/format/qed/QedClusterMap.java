package io.siphon.format.qed;

import io.siphon.format.ImageFile;
import io.siphon.format.ImageFormatException;
import io.siphon.format.ImageFormatException.Reason;
import io.siphon.util.CrashPoints;
import java.io.IOException;
import java.util.Optional;

/**
 * Guest offset to file offset through the L1 table and cached L2 tables (QEMU's qed-cluster.c),
 * and linking newly written clusters into them. Not thread-safe: every method runs under the
 * image's table lock.
 */
final class QedClusterMap {
    /** What a run of clusters holds. */
    enum Kind {
        /** Allocated data clusters, contiguous in the file. */
        DATA,
        /** QED's zero-cluster marker. */
        ZERO,
        /** Unallocated in an existing L2 table. */
        UNALLOCATED,
        /** No L2 table covers the range. */
        NO_L2_TABLE
    }

    /**
     * A run of clusters of one kind starting at a guest offset.
     *
     * @param hostOffsetBytes file offset of the run's first byte (DATA only), else -1
     * @param lengthBytes guest bytes the run covers from the lookup offset, positive
     */
    record Run(Kind kind, long hostOffsetBytes, long lengthBytes) {
        boolean isAllocatedInFile() {
            return kind == Kind.DATA;
        }

        boolean isUnallocated() {
            return kind == Kind.UNALLOCATED || kind == Kind.NO_L2_TABLE;
        }
    }

    private final ImageFile file;
    private final QedHeader header;
    private final QedTable l1;
    private final QedL2Cache l2Cache;
    private final QedAllocator allocator;

    QedClusterMap(ImageFile file, QedHeader header, QedTable l1, QedAllocator allocator) {
        this.file = file;
        this.header = header;
        this.l1 = l1;
        this.l2Cache = new QedL2Cache(header);
        this.allocator = allocator;
    }

    QedTable l1() {
        return l1;
    }

    QedAllocator allocator() {
        return allocator;
    }

    /** Forgets cached L2 tables after a repair rewrote them. */
    void invalidate() {
        l2Cache.clear();
    }

    /**
     * The run at {@code guestOffset}, at most {@code maxLengthBytes} long and never crossing the
     * end of one L2 table's coverage. A table entry that points outside the file is an {@link
     * ImageFormatException} naming the table and entry.
     */
    Run lookup(long guestOffset, long maxLengthBytes) throws IOException {
        long coverage = header.l2CoverageBytes();
        long length = Math.min(maxLengthBytes, coverage - (guestOffset & (coverage - 1)));
        int l1Index = header.l1Index(guestOffset);
        long l2Offset = l1.get(l1Index);
        if (l2Offset == QedTable.UNALLOCATED) {
            return new Run(Kind.NO_L2_TABLE, -1, length);
        }
        QedTable l2 = l2Table(l1Index, l2Offset);
        long inCluster = header.offsetInCluster(guestOffset);
        int first = header.l2Index(guestOffset);
        int end = (int) Math.min(l2.size(), first + Math.ceilDiv(inCluster + length, header.clusterSize()));
        long entry = l2.get(first);
        Kind kind = kindOf(entry);
        if (kind == Kind.DATA && !header.isValidClusterOffset(entry, allocator.endBytes())) {
            throw badEntry("L2 table at " + l2.fileOffset() + " entry " + first, "data cluster offset", entry);
        }
        int i = first + 1;
        for (long expected = entry + header.clusterSize(); i < end; i++, expected += header.clusterSize()) {
            long next = l2.get(i);
            boolean same = kind == Kind.DATA
                    ? next == expected && header.isValidClusterOffset(next, allocator.endBytes())
                    : kindOf(next) == kind;
            if (!same) {
                break;
            }
        }
        long runLength = Math.min(length, (i - first) * header.clusterSize() - inCluster);
        return new Run(kind, kind == Kind.DATA ? entry + inCluster : -1, runLength);
    }

    private static Kind kindOf(long entry) {
        if (entry == QedTable.UNALLOCATED) {
            return Kind.UNALLOCATED;
        }
        return entry == QedTable.ZERO_CLUSTER ? Kind.ZERO : Kind.DATA;
    }

    private QedTable l2Table(int l1Index, long l2Offset) throws IOException {
        Optional<QedTable> cached = l2Cache.find(l2Offset);
        if (cached.isPresent()) {
            return cached.get();
        }
        if (!header.isValidTableOffset(l2Offset, allocator.endBytes())) {
            throw badEntry("L1 table entry " + l1Index, "L2 table offset", l2Offset);
        }
        QedTable table = QedTable.read(file, l2Offset, header);
        l2Cache.put(table);
        return table;
    }

    private ImageFormatException badEntry(String field, String what, long value) {
        return new ImageFormatException(
                Reason.MALFORMED,
                file.path(),
                field,
                what + " " + value + " is not a whole cluster between the header (" + header.headerBytes()
                        + " bytes) and the end of the file (" + allocator.endBytes()
                        + " bytes); run a check with repair");
    }

    /**
     * Points {@code clusters} entries from {@code guestOffset} (cluster-aligned, inside one L2
     * table) at {@code hostOffset} and the clusters after it, or all at the zero marker when {@code
     * hostOffset} is {@link QedTable#ZERO_CLUSTER}. A missing L2 table is appended, written and
     * flushed before the L1 entry that points at it.
     */
    void link(long guestOffset, int clusters, long hostOffset) throws IOException {
        int l1Index = header.l1Index(guestOffset);
        int first = header.l2Index(guestOffset);
        long l2Offset = l1.get(l1Index);
        boolean newTable = l2Offset == QedTable.UNALLOCATED;
        QedTable l2 = newTable
                ? QedTable.empty(allocator.allocate((int) header.tableSize()), header)
                : l2Table(l1Index, l2Offset);
        for (int k = 0; k < clusters; k++) {
            l2.set(first + k, hostOffset == QedTable.ZERO_CLUSTER ? hostOffset : hostOffset + k * header.clusterSize());
        }
        if (newTable) {
            l2.writeAll(file);
            CrashPoints.reach("qed.l2.new.written");
            file.flush();
            CrashPoints.reach("qed.l2.new.flushed");
            l2Cache.put(l2);
            l1.set(l1Index, l2.fileOffset());
            l1.writeEntries(file, l1Index, 1);
            CrashPoints.reach("qed.l1.written");
        } else {
            l2.writeEntries(file, first, clusters);
            CrashPoints.reach("qed.l2.entries.written");
        }
    }
}
