package io.siphon.block;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Reads that must fill their buffer. A device's contract is to read {@code dst.remaining()} bytes
 * or fail; where a read's bytes are written on (into an image, by a copy or a copy-on-write), one
 * below that returns early would have stale bytes written as data, and a pull would then drop the
 * template that held the right ones. These reads turn that into an error. Stateless.
 */
public final class FullReads {
    private FullReads() {}

    /**
     * Reads {@code dst.remaining()} bytes at {@code offsetBytes} of {@code device} into {@code dst},
     * leaving its position where it was (callers pass slices); an I/O error if the device left part
     * of it unread.
     */
    public static void read(BlockDevice device, long offsetBytes, ByteBuffer dst) throws IOException {
        ByteBuffer view = dst.duplicate();
        device.read(offsetBytes, view);
        if (view.hasRemaining()) {
            throw new IOException("short read of " + dst.remaining() + " bytes at offset " + offsetBytes + ": "
                    + view.remaining() + " bytes were not read");
        }
    }
}
