package io.siphon.testing;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** Damage done to real images, as a failing disk or a corrupt template would leave them. */
public final class DamagedImages {
    private DamagedImages() {}

    /**
     * Points the L2 entry for {@code guestOffset} of a qcow2 image (which must have an L2 table
     * there) past the end of its file, so that reads of that cluster fail while the rest reads.
     */
    public static void l2EntryPastEnd(Path qcow2, long guestOffset) throws IOException {
        ByteBuffer header = ByteBuffer.wrap(Files.readAllBytes(qcow2));
        int clusterBits = header.getInt(20);
        long l2Table = header.getLong((int) header.getLong(40)) & 0x00ff_ffff_ffff_fe00L;
        try (FileChannel file = FileChannel.open(qcow2, StandardOpenOption.WRITE)) {
            file.write(
                    ByteBuffer.allocate(8).putLong(0, 1L << 63 | 1L << 40),
                    l2Table + 8 * ((guestOffset >>> clusterBits) & ((1L << (clusterBits - 3)) - 1)));
        }
    }
}
