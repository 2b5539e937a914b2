package io.siphon.protocol;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * Reads the protocol's frames: one UTF-8 JSON message per line, ended by LF, at most {@link
 * #MAX_MESSAGE_BYTES}. Not thread-safe: one reader per connection.
 */
public final class FrameReader {
    /** The largest message accepted, in bytes, without its LF. */
    public static final int MAX_MESSAGE_BYTES = 1024 * 1024;

    private final InputStream in;
    private final int maxBytes;
    private final byte[] buffer = new byte[8192];
    private int bufferPos;
    private int bufferEnd;

    public FrameReader(InputStream in) {
        this(in, MAX_MESSAGE_BYTES);
    }

    FrameReader(InputStream in, int maxBytes) {
        this.in = in;
        this.maxBytes = maxBytes;
    }

    /**
     * The next message's text, or empty at the end of the stream between messages. A message longer
     * than the limit, bytes that are not UTF-8, or a stream ending inside a message is a {@link
     * ProtocolException}; after one the stream is out of step and should be closed.
     */
    public Optional<String> next() throws IOException, ProtocolException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        while (true) {
            if (bufferPos == bufferEnd) {
                int n = in.read(buffer);
                if (n < 0) {
                    if (line.size() == 0) {
                        return Optional.empty();
                    }
                    throw new ProtocolException("stream ended inside a message after " + line.size() + " bytes");
                }
                bufferPos = 0;
                bufferEnd = n;
            }
            int start = bufferPos;
            while (bufferPos < bufferEnd && buffer[bufferPos] != '\n') {
                bufferPos++;
            }
            int chunk = bufferPos - start;
            if ((long) line.size() + chunk > maxBytes) {
                throw new ProtocolException("message exceeds " + maxBytes + " bytes");
            }
            line.write(buffer, start, chunk);
            if (bufferPos < bufferEnd) {
                bufferPos++; // past the LF
                byte[] bytes = line.toByteArray();
                int length = bytes.length;
                if (length > 0 && bytes[length - 1] == '\r') {
                    length--; // tolerate CRLF from line-oriented tools
                }
                if (length == 0) {
                    line.reset(); // blank lines between messages are ignored
                    continue;
                }
                return Optional.of(decode(bytes, length));
            }
        }
    }

    private static String decode(byte[] bytes, int length) throws ProtocolException {
        try {
            return StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes, 0, length))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new ProtocolException("message is not valid UTF-8");
        }
    }
}
