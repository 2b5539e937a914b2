package io.siphon.api.contract;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Damages one L2 entry of a qcow2 file qemu-img made, as a bad disk or a buggy writer would: opening
 * the image reads only the header and L1 table, so the damage shows only when that cluster is read.
 */
final class Qcow2Damage {
    private static final long L1_OFFSET_MASK = 0x00ff_ffff_ffff_fe00L;
    private static final long COPIED = 1L << 63;

    private Qcow2Damage() {}

    /**
     * Points the L2 entry of the cluster holding {@code guestOffsetBytes} 1 GiB past the end of the
     * file; returns the damaged entry's file offset in bytes. The cluster's L2 table must exist.
     */
    static long pointPastEnd(Path image, long guestOffsetBytes) throws IOException {
        try (FileChannel file = FileChannel.open(image, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            int clusterBits = readBytes(file, 20, 4).getInt();
            long l1Offset = readBytes(file, 40, 8).getLong();
            long clusterIndex = guestOffsetBytes >>> clusterBits;
            long entriesPerL2 = 1L << (clusterBits - 3);
            long l1Entry = readBytes(file, l1Offset + 8 * (clusterIndex / entriesPerL2), 8)
                    .getLong();
            long l2Offset = l1Entry & L1_OFFSET_MASK;
            if (l2Offset == 0) {
                throw new IllegalArgumentException(image + ": no L2 table covers guest offset " + guestOffsetBytes);
            }
            long entryOffset = l2Offset + 8 * (clusterIndex % entriesPerL2);
            long beyond = ((file.size() >>> clusterBits) + (1L << (30 - clusterBits))) << clusterBits;
            file.write(ByteBuffer.allocate(8).putLong(0, beyond | COPIED), entryOffset);
            file.force(true);
            return entryOffset;
        }
    }

    private static ByteBuffer readBytes(FileChannel file, long offset, int length) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(length);
        while (buffer.hasRemaining()) {
            if (file.read(buffer, offset + buffer.position()) < 0) {
                throw new IOException("short read at " + offset);
            }
        }
        return buffer.flip();
    }
}
