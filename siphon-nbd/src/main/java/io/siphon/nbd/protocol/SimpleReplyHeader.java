package io.siphon.nbd.protocol;

import java.nio.ByteBuffer;

/**
 * A simple reply (16 bytes: magic, error, cookie); a successful READ's data follows it.
 *
 * @param error 0 or an {@link NbdError} code
 * @param cookie the request's cookie
 */
public record SimpleReplyHeader(int error, long cookie) {
    public static final int BYTES = 16;

    /** Decodes the 12 bytes after the magic, which the caller has already read to tell reply kinds apart. */
    public static SimpleReplyHeader decodeAfterMagic(ByteBuffer buffer) {
        return new SimpleReplyHeader(buffer.getInt(), buffer.getLong());
    }

    public void encode(ByteBuffer buffer) {
        buffer.putInt(NbdMagic.SIMPLE_REPLY).putInt(error).putLong(cookie);
    }
}
