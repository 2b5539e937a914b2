package io.siphon.nbd.protocol;

import java.nio.ByteBuffer;

/**
 * The 16-byte header of an option request ("IHAVEOPT", option, data length); the data follows.
 *
 * @param option the option number ({@link OptionType})
 * @param lengthBytes length of the data that follows, 0 to 2^32 - 1
 */
public record OptionHeader(int option, long lengthBytes) {
    public static final int BYTES = 16;

    public static OptionHeader decode(ByteBuffer buffer) throws NbdProtocolException {
        long magic = buffer.getLong();
        if (magic != NbdMagic.OPTION) {
            throw new NbdProtocolException("bad option magic 0x" + Long.toHexString(magic));
        }
        return new OptionHeader(buffer.getInt(), Integer.toUnsignedLong(buffer.getInt()));
    }

    public void encode(ByteBuffer buffer) {
        buffer.putLong(NbdMagic.OPTION).putInt(option).putInt((int) lengthBytes);
    }
}
