package io.siphon.nbd.protocol;

import java.nio.ByteBuffer;

/**
 * A transmission request header (28 bytes): magic, flags (u16), type (u16), cookie (u64), offset
 * (u64), length (u32). A WRITE's payload follows it on the wire.
 *
 * @param flags command flags ({@link CommandFlags})
 * @param type the command's wire number (unknown numbers are kept so the server can refuse them)
 * @param cookie the client's handle, echoed in the reply
 * @param offsetBytes offset as sent, unsigned (a negative value here means above 2^63)
 * @param lengthBytes length, 0 to 2^32 - 1
 */
public record Request(int flags, int type, long cookie, long offsetBytes, long lengthBytes) {
    public static final int BYTES = 28;

    /** Decodes a header from the next {@link #BYTES} bytes of {@code buffer}. */
    public static Request decode(ByteBuffer buffer) throws NbdProtocolException {
        int magic = buffer.getInt();
        if (magic != NbdMagic.REQUEST) {
            throw new NbdProtocolException("bad request magic 0x" + Integer.toHexString(magic));
        }
        int flags = Short.toUnsignedInt(buffer.getShort());
        int type = Short.toUnsignedInt(buffer.getShort());
        long cookie = buffer.getLong();
        long offset = buffer.getLong();
        long length = Integer.toUnsignedLong(buffer.getInt());
        return new Request(flags, type, cookie, offset, length);
    }

    /** Appends the 28-byte header to {@code buffer}. */
    public void encode(ByteBuffer buffer) {
        buffer.putInt(NbdMagic.REQUEST)
                .putShort((short) flags)
                .putShort((short) type)
                .putLong(cookie)
                .putLong(offsetBytes)
                .putInt((int) lengthBytes);
    }

    public boolean hasFlag(int flag) {
        return (flags & flag) != 0;
    }
}
