package io.siphon.nbd.client;

import io.siphon.nbd.protocol.BlockStatusDescriptor;
import io.siphon.nbd.protocol.ChunkHeader;
import io.siphon.nbd.protocol.ChunkType;
import io.siphon.nbd.protocol.CommandFlags;
import io.siphon.nbd.protocol.CommandType;
import io.siphon.nbd.protocol.ExportRequest;
import io.siphon.nbd.protocol.HandshakeFlags;
import io.siphon.nbd.protocol.InfoType;
import io.siphon.nbd.protocol.MetaContextRequest;
import io.siphon.nbd.protocol.MetaContexts;
import io.siphon.nbd.protocol.NbdChannel;
import io.siphon.nbd.protocol.NbdError;
import io.siphon.nbd.protocol.NbdMagic;
import io.siphon.nbd.protocol.NbdProtocolException;
import io.siphon.nbd.protocol.OptionHeader;
import io.siphon.nbd.protocol.OptionReplyHeader;
import io.siphon.nbd.protocol.OptionReplyType;
import io.siphon.nbd.protocol.OptionType;
import io.siphon.nbd.protocol.Request;
import io.siphon.nbd.protocol.SimpleReplyHeader;
import io.siphon.nbd.protocol.TransmissionFlags;
import io.siphon.nbd.protocol.WireStrings;
import io.siphon.net.Connect;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;
import javax.net.ssl.SSLContext;

/**
 * A small NBD client: fixed newstyle handshake with STARTTLS (when given a context), structured
 * replies, base:allocation and GO; then read, write, flush, trim, write-zeroes, block status and
 * disconnect. Thread-safe; requests are sent one at a time.
 */
public final class NbdClient implements AutoCloseable {
    /** Largest reply payload accepted from a server, to bound memory against a broken one. */
    private static final long MAX_REPLY_PAYLOAD_BYTES = 64L << 20;

    private final ReentrantLock lock = new ReentrantLock();
    private NbdChannel channel;
    private boolean structuredReplies;
    private int allocationContextId = -1;
    private long sizeBytes;
    private int transmissionFlags;
    private long maxBlockBytes = 32 << 20;
    private long nextCookie = 1;
    private boolean closed;

    private NbdClient(NbdChannel channel) {
        this.channel = channel;
    }

    /** Connects to the export an NBD URI names; {@code tls} is required for nbds:// URIs. */
    public static NbdClient connect(String uri, Optional<SSLContext> tls) throws IOException {
        return connect(NbdAddress.parse(uri), tls);
    }

    /** Connects to the export an NBD URI names, without TLS. */
    public static NbdClient connect(String uri) throws IOException {
        return connect(uri, Optional.empty());
    }

    /** Connects to {@code address}; with {@code tls} present the connection is upgraded before anything else. */
    public static NbdClient connect(NbdAddress address, Optional<SSLContext> tls) throws IOException {
        if (address.tls() && tls.isEmpty()) {
            throw new IllegalArgumentException("an nbds:// address needs a TLS context");
        }
        SocketChannel socket = address.socketPath().isPresent()
                ? Connect.unix(address.socketPath().get())
                : Connect.tcp(address.host(), address.port());
        try {
            NbdClient client = new NbdClient(NbdChannel.plain(socket));
            client.handshake(address, tls);
            return client;
        } catch (IOException | RuntimeException e) {
            socket.close();
            throw e;
        }
    }

    private void handshake(NbdAddress address, Optional<SSLContext> tls) throws IOException {
        ByteBuffer greeting = ByteBuffer.allocate(18);
        channel.readFully(greeting);
        greeting.flip();
        if (greeting.getLong() != NbdMagic.INIT || greeting.getLong() != NbdMagic.OPTION) {
            throw new NbdProtocolException("not a newstyle NBD server");
        }
        int serverFlags = Short.toUnsignedInt(greeting.getShort());
        if ((serverFlags & HandshakeFlags.FIXED_NEWSTYLE) == 0) {
            throw new NbdProtocolException("server does not speak fixed newstyle");
        }
        int clientFlags = HandshakeFlags.CLIENT_FIXED_NEWSTYLE | (serverFlags & HandshakeFlags.NO_ZEROES);
        channel.writeFully(ByteBuffer.allocate(4).putInt(clientFlags).flip());
        if (tls.isPresent()) {
            sendOption(OptionType.STARTTLS, ByteBuffer.allocate(0));
            expectAck(OptionType.STARTTLS);
            String host = address.host().isEmpty() ? "localhost" : address.host();
            channel = NbdChannel.startTls(channel.socket(), tls.get(), true, host);
        }
        sendOption(OptionType.STRUCTURED_REPLY, ByteBuffer.allocate(0));
        structuredReplies = optionSucceeded(OptionType.STRUCTURED_REPLY);
        if (structuredReplies) {
            negotiateAllocationContext(address.exportName());
        }
        go(address.exportName());
    }

    private void negotiateAllocationContext(String exportName) throws IOException {
        sendOption(
                OptionType.SET_META_CONTEXT,
                new MetaContextRequest(exportName, List.of(MetaContexts.BASE_ALLOCATION)).encode());
        while (true) {
            OptionReply reply = readOptionReply(OptionType.SET_META_CONTEXT);
            if (reply.header().replyType() == OptionReplyType.META_CONTEXT) {
                int id = reply.data().getInt();
                String name = WireStrings.read(reply.data(), reply.data().remaining(), "context name");
                if (name.equals(MetaContexts.BASE_ALLOCATION)) {
                    allocationContextId = id;
                }
            } else {
                return; // ACK, or an error: then block status is simply unavailable
            }
        }
    }

    private void go(String exportName) throws IOException {
        sendOption(OptionType.GO, new ExportRequest(exportName, List.of(InfoType.BLOCK_SIZE)).encode());
        boolean sawExport = false;
        while (true) {
            OptionReply reply = readOptionReply(OptionType.GO);
            int type = reply.header().replyType();
            if (type == OptionReplyType.ACK) {
                if (!sawExport) {
                    throw new NbdProtocolException("GO succeeded without export information");
                }
                return;
            }
            if (OptionReplyType.isError(type)) {
                throw new NbdReplyException(type, "server refused export '" + exportName + "': " + errorText(reply));
            }
            if (type != OptionReplyType.INFO || reply.data().remaining() < 2) {
                continue;
            }
            ByteBuffer data = reply.data();
            int info = Short.toUnsignedInt(data.getShort());
            if (info == InfoType.EXPORT && data.remaining() >= 10) {
                sizeBytes = data.getLong();
                transmissionFlags = Short.toUnsignedInt(data.getShort());
                sawExport = true;
            } else if (info == InfoType.BLOCK_SIZE && data.remaining() >= 12) {
                data.getInt();
                data.getInt();
                maxBlockBytes = Integer.toUnsignedLong(data.getInt());
            }
        }
    }

    private record OptionReply(OptionReplyHeader header, ByteBuffer data) {}

    private void sendOption(int option, ByteBuffer data) throws IOException {
        ByteBuffer header = ByteBuffer.allocate(OptionHeader.BYTES);
        new OptionHeader(option, data.remaining()).encode(header);
        channel.writeFully(header.flip(), data);
    }

    private OptionReply readOptionReply(int option) throws IOException {
        ByteBuffer headerBytes = ByteBuffer.allocate(OptionReplyHeader.BYTES);
        channel.readFully(headerBytes);
        OptionReplyHeader header = OptionReplyHeader.decode(headerBytes.flip());
        if (header.option() != option) {
            throw new NbdProtocolException(
                    "reply to " + OptionType.name(header.option()) + " while waiting for " + OptionType.name(option));
        }
        if (header.lengthBytes() > MAX_REPLY_PAYLOAD_BYTES) {
            throw new NbdProtocolException("option reply of " + header.lengthBytes() + " bytes");
        }
        ByteBuffer data = ByteBuffer.allocate((int) header.lengthBytes());
        channel.readFully(data);
        return new OptionReply(header, data.flip());
    }

    private void expectAck(int option) throws IOException {
        OptionReply reply = readOptionReply(option);
        if (reply.header().replyType() != OptionReplyType.ACK) {
            throw new NbdReplyException(
                    reply.header().replyType(), OptionType.name(option) + " refused: " + errorText(reply));
        }
    }

    private boolean optionSucceeded(int option) throws IOException {
        return readOptionReply(option).header().replyType() == OptionReplyType.ACK;
    }

    private static String errorText(OptionReply reply) {
        return new String(reply.data().array(), StandardCharsets.UTF_8);
    }

    /** Export size in bytes. */
    public long sizeBytes() {
        return sizeBytes;
    }

    /** The export's transmission flags ({@link TransmissionFlags}). */
    public int transmissionFlags() {
        return transmissionFlags;
    }

    public boolean isReadOnly() {
        return (transmissionFlags & TransmissionFlags.READ_ONLY) != 0;
    }

    public boolean structuredReplies() {
        return structuredReplies;
    }

    /** Whether base:allocation was agreed, so that {@link #blockStatus} works. */
    public boolean hasAllocationContext() {
        return allocationContextId >= 0;
    }

    /** The largest request the server accepts, in bytes. */
    public long maxBlockBytes() {
        return maxBlockBytes;
    }

    /** Reads {@code dst.remaining()} bytes at {@code offsetBytes} (at most {@link #maxBlockBytes()}). */
    public void read(long offsetBytes, ByteBuffer dst) throws IOException {
        lock.lock();
        try {
            long cookie = send(CommandType.READ, 0, offsetBytes, dst.remaining(), null);
            int start = dst.position();
            int length = dst.remaining();
            if (!structuredReplies) {
                int error = readSimple(cookie);
                checkError(error, "READ", offsetBytes);
                channel.readFully(dst);
                return;
            }
            List<long[]> covered = new ArrayList<>();
            readChunks(cookie, "READ", chunk -> {
                ByteBuffer payload = chunk.payload();
                long at = payload.getLong();
                long relative = at - offsetBytes;
                if (chunk.header().type() == ChunkType.OFFSET_DATA) {
                    int n = payload.remaining();
                    checkInside(relative, n, length);
                    covered.add(new long[] {relative, relative + n});
                    dst.put(start + (int) relative, payload, payload.position(), n);
                } else if (chunk.header().type() == ChunkType.OFFSET_HOLE) {
                    int n = payload.getInt();
                    checkInside(relative, n, length);
                    covered.add(new long[] {relative, relative + n});
                    for (int i = 0; i < n; i++) {
                        dst.put(start + (int) relative + i, (byte) 0);
                    }
                } else {
                    throw new NbdProtocolException(
                            "unexpected chunk type " + chunk.header().type() + " in READ");
                }
            });
            checkCovered(covered, length, offsetBytes);
            dst.position(start + length);
        } finally {
            lock.unlock();
        }
    }

    /**
     * The spec has the chunks of a successful READ cover it exactly once; a reply that leaves a gap
     * would have the caller take the buffer's stale bytes as data (and a pull copy them into a top).
     */
    private static void checkCovered(List<long[]> covered, int length, long offsetBytes) throws NbdProtocolException {
        covered.sort(java.util.Comparator.comparingLong(range -> range[0]));
        long end = 0;
        for (long[] range : covered) {
            if (range[0] != end) {
                throw new NbdProtocolException("the server's reply to the READ of " + length + " bytes at offset "
                        + offsetBytes + " " + (range[0] > end ? "leaves out" : "repeats") + " bytes at +"
                        + Math.min(range[0], end));
            }
            end = range[1];
        }
        if (end != length) {
            throw new NbdProtocolException("the server's reply to the READ of " + length + " bytes at offset "
                    + offsetBytes + " covers only its first " + end + " bytes");
        }
    }

    private static void checkInside(long relative, long n, int length) throws NbdProtocolException {
        if (relative < 0 || relative + n > length) {
            throw new NbdProtocolException(
                    "chunk at +" + relative + " of " + n + " bytes lies outside the read of " + length + " bytes");
        }
    }

    /** Writes {@code src.remaining()} bytes at {@code offsetBytes}; with {@code fua}, durable on return. */
    public void write(long offsetBytes, ByteBuffer src, boolean fua) throws IOException {
        simpleCommand(CommandType.WRITE, fua ? CommandFlags.FUA : 0, offsetBytes, src.remaining(), src);
    }

    /** Makes completed writes durable. */
    public void flush() throws IOException {
        simpleCommand(CommandType.FLUSH, 0, 0, 0, null);
    }

    /** Tells the server the range is no longer needed. */
    public void trim(long offsetBytes, long lengthBytes) throws IOException {
        simpleCommand(CommandType.TRIM, 0, offsetBytes, lengthBytes, null);
    }

    /** Writes zeroes; {@code flags} are {@link CommandFlags} (NO_HOLE, FAST_ZERO, FUA). */
    public void writeZeroes(long offsetBytes, long lengthBytes, int flags) throws IOException {
        simpleCommand(CommandType.WRITE_ZEROES, flags, offsetBytes, lengthBytes, null);
    }

    /** Sends a command of any type and flags, for tests of the server's checks. */
    public void command(CommandType type, int flags, long offsetBytes, long lengthBytes) throws IOException {
        simpleCommand(type, flags, offsetBytes, lengthBytes, null);
    }

    private void simpleCommand(CommandType type, int flags, long offsetBytes, long lengthBytes, ByteBuffer payload)
            throws IOException {
        lock.lock();
        try {
            long cookie = send(type, flags, offsetBytes, lengthBytes, payload);
            checkError(readSimple(cookie), type.name(), offsetBytes);
        } finally {
            lock.unlock();
        }
    }

    /** The base:allocation status from {@code offsetBytes}: descriptors covering a prefix of the range. */
    public List<BlockStatusDescriptor> blockStatus(long offsetBytes, long lengthBytes) throws IOException {
        if (!hasAllocationContext()) {
            throw new IllegalStateException("base:allocation was not negotiated");
        }
        lock.lock();
        try {
            long cookie = send(CommandType.BLOCK_STATUS, 0, offsetBytes, lengthBytes, null);
            List<BlockStatusDescriptor> descriptors = new ArrayList<>();
            readChunks(cookie, "BLOCK_STATUS", chunk -> {
                ByteBuffer payload = chunk.payload();
                if (chunk.header().type() != ChunkType.BLOCK_STATUS || payload.remaining() % 8 != 4) {
                    throw new NbdProtocolException(
                            "bad BLOCK_STATUS chunk of type " + chunk.header().type());
                }
                if (payload.getInt() != allocationContextId) {
                    return;
                }
                while (payload.hasRemaining()) {
                    descriptors.add(
                            new BlockStatusDescriptor(Integer.toUnsignedLong(payload.getInt()), payload.getInt()));
                }
            });
            return descriptors;
        } finally {
            lock.unlock();
        }
    }

    private long send(CommandType type, int flags, long offsetBytes, long lengthBytes, ByteBuffer payload)
            throws IOException {
        if (closed) {
            throw new IOException("NBD client is closed");
        }
        long cookie = nextCookie++;
        ByteBuffer header = ByteBuffer.allocate(Request.BYTES);
        new Request(flags, type.code(), cookie, offsetBytes, lengthBytes).encode(header);
        if (payload == null) {
            channel.writeFully(header.flip());
        } else {
            channel.writeFully(header.flip(), payload);
        }
        return cookie;
    }

    private int readSimple(long cookie) throws IOException {
        ByteBuffer magic = ByteBuffer.allocate(4);
        channel.readFully(magic);
        int value = magic.flip().getInt();
        if (value == NbdMagic.STRUCTURED_REPLY) {
            Chunk chunk = readChunkAfterMagic(cookie);
            if (ChunkType.isError(chunk.header().type())) {
                return chunk.payload().getInt();
            }
            return 0;
        }
        if (value != NbdMagic.SIMPLE_REPLY) {
            throw new NbdProtocolException("bad reply magic 0x" + Integer.toHexString(value));
        }
        ByteBuffer rest = ByteBuffer.allocate(SimpleReplyHeader.BYTES - 4);
        channel.readFully(rest);
        SimpleReplyHeader reply = SimpleReplyHeader.decodeAfterMagic(rest.flip());
        checkCookie(reply.cookie(), cookie);
        return reply.error();
    }

    private record Chunk(ChunkHeader header, ByteBuffer payload) {}

    private interface ChunkHandler {
        void accept(Chunk chunk) throws IOException;
    }

    private void readChunks(long cookie, String what, ChunkHandler handler) throws IOException {
        NbdReplyException failure = null;
        while (true) {
            ByteBuffer magic = ByteBuffer.allocate(4);
            channel.readFully(magic);
            int value = magic.flip().getInt();
            if (value == NbdMagic.SIMPLE_REPLY) {
                ByteBuffer rest = ByteBuffer.allocate(SimpleReplyHeader.BYTES - 4);
                channel.readFully(rest);
                SimpleReplyHeader reply = SimpleReplyHeader.decodeAfterMagic(rest.flip());
                checkCookie(reply.cookie(), cookie);
                checkError(reply.error(), what, 0);
                return;
            }
            if (value != NbdMagic.STRUCTURED_REPLY) {
                throw new NbdProtocolException("bad reply magic 0x" + Integer.toHexString(value));
            }
            Chunk chunk = readChunkAfterMagic(cookie);
            int type = chunk.header().type();
            if (ChunkType.isError(type)) {
                int error = chunk.payload().getInt();
                int messageLength = Short.toUnsignedInt(chunk.payload().getShort());
                String message = WireStrings.read(
                        chunk.payload(), Math.min(messageLength, chunk.payload().remaining()), "error message");
                failure = new NbdReplyException(
                        error, what + " failed with " + NbdError.describe(error) + ": " + message);
            } else if (type != ChunkType.NONE) {
                handler.accept(chunk);
            }
            if (chunk.header().isDone()) {
                if (failure != null) {
                    throw failure;
                }
                return;
            }
        }
    }

    private Chunk readChunkAfterMagic(long cookie) throws IOException {
        ByteBuffer rest = ByteBuffer.allocate(ChunkHeader.BYTES - 4);
        channel.readFully(rest);
        ChunkHeader header = ChunkHeader.decodeAfterMagic(rest.flip());
        checkCookie(header.cookie(), cookie);
        if (header.lengthBytes() > MAX_REPLY_PAYLOAD_BYTES) {
            throw new NbdProtocolException("reply chunk of " + header.lengthBytes() + " bytes");
        }
        ByteBuffer payload = ByteBuffer.allocate((int) header.lengthBytes());
        channel.readFully(payload);
        return new Chunk(header, payload.flip());
    }

    private static void checkCookie(long got, long expected) throws NbdProtocolException {
        if (got != expected) {
            throw new NbdProtocolException("reply for cookie " + got + " while waiting for " + expected);
        }
    }

    private static void checkError(int error, String what, long offsetBytes) throws NbdReplyException {
        if (error != 0) {
            throw new NbdReplyException(
                    error, what + " at offset " + offsetBytes + " failed with " + NbdError.describe(error));
        }
    }

    /** Sends DISC and closes the connection; idempotent. */
    public void disconnect() throws IOException {
        lock.lock();
        try {
            if (closed) {
                return;
            }
            try {
                send(CommandType.DISC, 0, 0, 0, null);
            } finally {
                closed = true;
                channel.close();
            }
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void close() throws IOException {
        disconnect();
    }
}
