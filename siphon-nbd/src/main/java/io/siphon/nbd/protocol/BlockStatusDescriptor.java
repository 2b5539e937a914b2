package io.siphon.nbd.protocol;

/**
 * One run of a BLOCK_STATUS chunk (8 bytes: length u32, status flags u32).
 *
 * @param lengthBytes run length, 1 to 2^32 - 1
 * @param flags status bits of the context ({@link MetaContexts#STATE_HOLE}, {@link MetaContexts#STATE_ZERO})
 */
public record BlockStatusDescriptor(long lengthBytes, int flags) {
    public static final int BYTES = 8;
    public static final long MAX_LENGTH_BYTES = 0xFFFF_FFFFL;

    public BlockStatusDescriptor {
        if (lengthBytes <= 0 || lengthBytes > MAX_LENGTH_BYTES) {
            throw new IllegalArgumentException("descriptor length " + lengthBytes + " is not in 1..2^32-1");
        }
    }
}
