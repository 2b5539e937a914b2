package io.siphon.format.qcow2;

import io.siphon.format.MeasureSource;
import io.siphon.format.Measurement;
import io.siphon.util.Alignment;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.OptionalLong;

/**
 * {@code qemu-img measure -O qcow2}, with QEMU's arithmetic (qcow2.c: qcow2_measure,
 * qcow2_calc_prealloc_size, qcow2_refcount_metadata_size): the fully allocated size is the header,
 * L2 and L1 tables for every cluster, their refcount structures and the data; the required size
 * drops the data clusters the source does not hold.
 */
final class Qcow2Measure {
    private static final int L1_ENTRY = 8;
    private static final int L2_ENTRY = 8;
    private static final int EXTENDED_L2_ENTRY = 16;
    private static final int REFTABLE_ENTRY = 8;
    private static final int BITMAP_TABLE_ENTRY = 8;
    private static final int BITMAP_DIRECTORY_ENTRY = 24;

    private Qcow2Measure() {}

    static Measurement measure(MeasureSource source, Qcow2CreateOptions options) {
        long clusterSize = options.clusterSize();
        long virtualSize = Alignment.alignUp(source.sizeBytes(), clusterSize);
        long data = 0;
        long cursor = 0;
        for (long[] range : source.dataRanges()) {
            long start = Math.max(range[0], cursor);
            long end = range[0] + range[1];
            if (start >= end) {
                continue;
            }
            long clusterEnd = Alignment.alignUp(end, clusterSize);
            data += (start % clusterSize) + (clusterEnd - start);
            cursor = clusterEnd;
        }
        long fully = preallocatedSize(
                virtualSize,
                clusterSize,
                Integer.numberOfTrailingZeros(options.refcountBits()),
                options.extendedL2() ? EXTENDED_L2_ENTRY : L2_ENTRY);
        OptionalLong bitmaps = OptionalLong.empty();
        if (options.version() >= 3 && source.bitmaps().isPresent()) {
            bitmaps = OptionalLong.of(bitmapsSize(source.bitmaps().get(), source.sizeBytes(), clusterSize));
        }
        return new Measurement(fully - virtualSize + data, fully, bitmaps);
    }

    private static long preallocatedSize(long alignedSize, long clusterSize, int refcountOrder, int l2EntryBytes) {
        long meta = clusterSize; // header
        long l2Entries = Alignment.alignUp(alignedSize / clusterSize, clusterSize / l2EntryBytes);
        meta += l2Entries * l2EntryBytes;
        long l1Entries = Alignment.alignUp(l2Entries * l2EntryBytes / clusterSize, clusterSize / L1_ENTRY);
        meta += l1Entries * L1_ENTRY;
        meta += refcountMetadataSize((meta + alignedSize) / clusterSize, clusterSize, refcountOrder);
        return meta + alignedSize;
    }

    /** The refcount blocks and table that count {@code clusters} and themselves: a fixed point. */
    private static long refcountMetadataSize(long clusters, long clusterSize, int refcountOrder) {
        long blocksPerTableCluster = clusterSize / REFTABLE_ENTRY;
        long refcountsPerBlock = clusterSize * 8 / (1L << refcountOrder);
        long table = 0;
        long blocks = 0;
        long n = 0;
        long last;
        do {
            last = n;
            blocks = ceilDiv(clusters + table + blocks, refcountsPerBlock);
            table = ceilDiv(blocks, blocksPerTableCluster);
            n = clusters + blocks + table;
        } while (n != last);
        return (blocks + table) * clusterSize;
    }

    /** Each bitmap fully allocated with its table, and the directory (QEMU's estimate). */
    private static long bitmapsSize(List<MeasureSource.Bitmap> bitmaps, long sizeBytes, long clusterSize) {
        long total = 0;
        long directory = 0;
        for (MeasureSource.Bitmap bitmap : bitmaps) {
            long bytes = ceilDiv(ceilDiv(sizeBytes, bitmap.granularityBytes()), 8);
            long clusters = ceilDiv(bytes, clusterSize);
            total += clusters * clusterSize;
            total += Alignment.alignUp(clusters * BITMAP_TABLE_ENTRY, clusterSize);
            directory += Alignment.alignUp(
                    BITMAP_DIRECTORY_ENTRY + bitmap.name().getBytes(StandardCharsets.UTF_8).length, 8);
        }
        return total + Alignment.alignUp(directory, clusterSize);
    }

    private static long ceilDiv(long a, long b) {
        return Math.ceilDiv(a, b);
    }
}
