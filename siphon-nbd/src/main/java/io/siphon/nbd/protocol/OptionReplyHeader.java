package io.siphon.nbd.protocol;

import java.nio.ByteBuffer;

/**
 * The 20-byte header of an option reply (magic, option, reply type, data length); the data follows.
 *
 * @param option the option being answered
 * @param replyType {@link OptionReplyType}
 * @param lengthBytes length of the data that follows, 0 to 2^32 - 1
 */
public record OptionReplyHeader(int option, int replyType, long lengthBytes) {
    public static final int BYTES = 20;

    public static OptionReplyHeader decode(ByteBuffer buffer) throws NbdProtocolException {
        long magic = buffer.getLong();
        if (magic != NbdMagic.OPTION_REPLY) {
            throw new NbdProtocolException("bad option reply magic 0x" + Long.toHexString(magic));
        }
        return new OptionReplyHeader(buffer.getInt(), buffer.getInt(), Integer.toUnsignedLong(buffer.getInt()));
    }

    public void encode(ByteBuffer buffer) {
        buffer.putLong(NbdMagic.OPTION_REPLY).putInt(option).putInt(replyType).putInt((int) lengthBytes);
    }
}
