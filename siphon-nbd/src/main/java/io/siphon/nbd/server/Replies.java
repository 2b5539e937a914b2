package io.siphon.nbd.server;

import io.siphon.nbd.protocol.BlockStatusDescriptor;
import io.siphon.nbd.protocol.ChunkHeader;
import io.siphon.nbd.protocol.ChunkType;
import io.siphon.nbd.protocol.NbdChannel;
import io.siphon.nbd.protocol.NbdError;
import io.siphon.nbd.protocol.SimpleReplyHeader;
import io.siphon.nbd.protocol.WireStrings;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Writes replies on one connection. Thread-safe: each reply (header and payload) goes out whole under
 * one lock, so replies of concurrent requests never interleave on the wire. A reply the client does
 * not read for the stall timeout closes the connection (see {@link ReplyStalls}).
 */
final class Replies {
    private final NbdChannel channel;
    private final ReplyStalls stalls;
    private final ReentrantLock lock = new ReentrantLock();

    Replies(NbdChannel channel, ReplyStalls stalls) {
        this.channel = channel;
        this.stalls = stalls;
    }

    /** A simple reply: success or an error, without data. */
    void simple(long cookie, int error) throws IOException {
        send(simpleHeader(error, cookie));
    }

    /** A simple reply carrying READ data. */
    void simpleData(long cookie, ByteBuffer data) throws IOException {
        send(simpleHeader(0, cookie), data);
    }

    /** The single, final data chunk of a structured READ reply. */
    void dataChunk(long cookie, long offsetBytes, ByteBuffer data) throws IOException {
        ByteBuffer header = chunkHeader(ChunkType.OFFSET_DATA, cookie, 8L + data.remaining(), 8);
        header.putLong(offsetBytes).flip();
        send(header, data);
    }

    /** The single, final hole chunk of a structured READ reply: the range reads as zeroes. */
    void holeChunk(long cookie, long offsetBytes, int lengthBytes) throws IOException {
        ByteBuffer header = chunkHeader(ChunkType.OFFSET_HOLE, cookie, 12, 12);
        header.putLong(offsetBytes).putInt(lengthBytes).flip();
        send(header);
    }

    /** The final error chunk of a structured reply. */
    void errorChunk(long cookie, NbdError error, String message) throws IOException {
        byte[] text = WireStrings.bytes(message);
        int textLength = Math.min(text.length, WireStrings.MAX_BYTES);
        ByteBuffer header = chunkHeader(ChunkType.ERROR, cookie, 6L + textLength, 6 + textLength);
        header.putInt(error.code())
                .putShort((short) textLength)
                .put(text, 0, textLength)
                .flip();
        send(header);
    }

    /** The final BLOCK_STATUS chunk for one metadata context. */
    void statusChunk(long cookie, int contextId, List<BlockStatusDescriptor> descriptors) throws IOException {
        int payload = 4 + BlockStatusDescriptor.BYTES * descriptors.size();
        ByteBuffer header = chunkHeader(ChunkType.BLOCK_STATUS, cookie, payload, payload);
        header.putInt(contextId);
        for (BlockStatusDescriptor descriptor : descriptors) {
            header.putInt((int) descriptor.lengthBytes()).putInt(descriptor.flags());
        }
        send(header.flip());
    }

    private static ByteBuffer simpleHeader(int error, long cookie) {
        ByteBuffer header = ByteBuffer.allocate(SimpleReplyHeader.BYTES);
        new SimpleReplyHeader(error, cookie).encode(header);
        return header.flip();
    }

    /** A final chunk's header, with room for {@code extraBytes} of payload written after it. */
    private static ByteBuffer chunkHeader(int type, long cookie, long payloadBytes, int extraBytes) {
        ByteBuffer header = ByteBuffer.allocate(ChunkHeader.BYTES + extraBytes);
        new ChunkHeader(ChunkType.FLAG_DONE, type, cookie, payloadBytes).encode(header);
        return header;
    }

    private void send(ByteBuffer... buffers) throws IOException {
        lock.lock();
        try (ReplyStalls.Watch watch = stalls.watch(channel)) {
            channel.writeFully(buffers);
        } finally {
            lock.unlock();
        }
    }
}
