package io.siphon.format.qcow2;

import java.nio.ByteBuffer;

/**
 * Entries of one refcount block: {@code refcount_bits} wide (1 to 64), big-endian for whole bytes,
 * least significant bit first within a byte for sub-byte widths.
 */
final class RefcountBlock {
    private RefcountBlock() {}

    static long get(ByteBuffer block, long index, int bits) {
        return switch (bits) {
            case 64 -> block.getLong((int) (index * 8));
            case 32 -> block.getInt((int) (index * 4)) & 0xffffffffL;
            case 16 -> block.getShort((int) (index * 2)) & 0xffffL;
            case 8 -> block.get((int) index) & 0xffL;
            default -> {
                long bit = index * bits;
                int value = block.get((int) (bit >>> 3)) & 0xff;
                yield (value >>> (bit & 7)) & ((1 << bits) - 1);
            }
        };
    }

    static void set(ByteBuffer block, long index, int bits, long refcount) {
        switch (bits) {
            case 64 -> block.putLong((int) (index * 8), refcount);
            case 32 -> block.putInt((int) (index * 4), (int) refcount);
            case 16 -> block.putShort((int) (index * 2), (short) refcount);
            case 8 -> block.put((int) index, (byte) refcount);
            default -> {
                long bit = index * bits;
                int at = (int) (bit >>> 3);
                int shift = (int) (bit & 7);
                int mask = ((1 << bits) - 1) << shift;
                int value = block.get(at) & 0xff;
                block.put(at, (byte) ((value & ~mask) | (((int) refcount << shift) & mask)));
            }
        }
    }
}
