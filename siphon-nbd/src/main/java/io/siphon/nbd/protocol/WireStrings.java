package io.siphon.nbd.protocol;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/** UTF-8 strings on the wire: checked against the spec's 4096-byte limit and the bytes at hand. */
public final class WireStrings {
    /** The spec's upper bound on names, queries and messages. */
    public static final int MAX_BYTES = 4096;

    private WireStrings() {}

    /** Reads a string of {@code lengthBytes} from {@code buffer}, refusing bad lengths and bad UTF-8. */
    public static String read(ByteBuffer buffer, long lengthBytes, String what) throws NbdProtocolException {
        if (lengthBytes < 0 || lengthBytes > MAX_BYTES || lengthBytes > buffer.remaining()) {
            throw new NbdProtocolException(what + " length " + lengthBytes + " exceeds the " + buffer.remaining()
                    + " bytes left (limit " + MAX_BYTES + ")");
        }
        ByteBuffer slice = buffer.slice(buffer.position(), (int) lengthBytes);
        buffer.position(buffer.position() + (int) lengthBytes);
        try {
            return StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(slice)
                    .toString();
        } catch (CharacterCodingException e) {
            throw new NbdProtocolException(what + " is not valid UTF-8");
        }
    }

    /** Reads a u32 length, then that many bytes of string. */
    public static String readPrefixed(ByteBuffer buffer, String what) throws NbdProtocolException {
        if (buffer.remaining() < 4) {
            throw new NbdProtocolException(what + " length is missing");
        }
        return read(buffer, Integer.toUnsignedLong(buffer.getInt()), what);
    }

    public static byte[] bytes(String value) {
        return value.getBytes(StandardCharsets.UTF_8);
    }
}
