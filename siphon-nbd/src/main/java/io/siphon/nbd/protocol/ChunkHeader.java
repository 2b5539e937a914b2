package io.siphon.nbd.protocol;

import java.nio.ByteBuffer;

/**
 * A structured reply chunk header (20 bytes: magic, flags u16, type u16, cookie, payload length).
 *
 * @param flags {@link ChunkType#FLAG_DONE} on the last chunk
 * @param type {@link ChunkType}
 * @param cookie the request's cookie
 * @param lengthBytes payload length, 0 to 2^32 - 1
 */
public record ChunkHeader(int flags, int type, long cookie, long lengthBytes) {
    public static final int BYTES = 20;

    /** Decodes the 16 bytes after the magic. */
    public static ChunkHeader decodeAfterMagic(ByteBuffer buffer) {
        int flags = Short.toUnsignedInt(buffer.getShort());
        int type = Short.toUnsignedInt(buffer.getShort());
        long cookie = buffer.getLong();
        return new ChunkHeader(flags, type, cookie, Integer.toUnsignedLong(buffer.getInt()));
    }

    public void encode(ByteBuffer buffer) {
        buffer.putInt(NbdMagic.STRUCTURED_REPLY)
                .putShort((short) flags)
                .putShort((short) type)
                .putLong(cookie)
                .putInt((int) lengthBytes);
    }

    public boolean isDone() {
        return (flags & ChunkType.FLAG_DONE) != 0;
    }
}
