package io.siphon.cli.image;

import io.siphon.block.BlockDevice;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Optional;

/**
 * Reading and comparing in 512-byte sectors, the unit in which qemu-img compare and rebase report
 * and copy differences. Stateless and thread-safe.
 */
final class Sectors {
    static final int SECTOR_BYTES = 512;

    private Sectors() {}

    /**
     * Fills {@code dst} from {@code device} at {@code offsetBytes}; what lies past the device's end
     * (or everything, without a device) reads as zeroes, as a backing file shorter than its overlay.
     */
    static void readPadded(Optional<? extends BlockDevice> device, long offsetBytes, ByteBuffer dst)
            throws IOException {
        int start = dst.position();
        long available =
                device.map(d -> Math.max(0, d.sizeBytes() - offsetBytes)).orElse(0L);
        if (available > 0) {
            ByteBuffer slice = dst.slice(start, (int) Math.min(available, dst.remaining()));
            device.get().read(offsetBytes, slice);
        }
        for (int i = start + (int) Math.min(available, dst.remaining()); i < dst.limit(); i++) {
            dst.put(i, (byte) 0);
        }
        dst.position(dst.limit());
    }

    /** Index (from {@code from}) of the first sector where {@code a} and {@code b} differ, or -1. */
    static int firstDifference(ByteBuffer a, ByteBuffer b, int from, int to) {
        for (int sector = from; sector < to; sector += SECTOR_BYTES) {
            int end = Math.min(to, sector + SECTOR_BYTES);
            if (!a.slice(sector, end - sector).equals(b.slice(sector, end - sector))) {
                return sector;
            }
        }
        return -1;
    }

    /** End of the run of differing sectors that starts at {@code from}. */
    static int endOfDifference(ByteBuffer a, ByteBuffer b, int from, int to) {
        int sector = from;
        while (sector < to) {
            int end = Math.min(to, sector + SECTOR_BYTES);
            if (a.slice(sector, end - sector).equals(b.slice(sector, end - sector))) {
                return sector;
            }
            sector = end;
        }
        return to;
    }

    /** Index of the first sector of {@code buffer}'s first {@code length} bytes that is not zero, or -1. */
    static int firstNonZero(ByteBuffer buffer, int length) {
        for (int sector = 0; sector < length; sector += SECTOR_BYTES) {
            int end = Math.min(length, sector + SECTOR_BYTES);
            for (int i = sector; i < end; i++) {
                if (buffer.get(i) != 0) {
                    return sector;
                }
            }
        }
        return -1;
    }
}
