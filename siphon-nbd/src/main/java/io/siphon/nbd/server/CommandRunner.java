package io.siphon.nbd.server;

import io.siphon.block.BlockDevice;
import io.siphon.block.FastZeroUnsupportedException;
import io.siphon.block.RequestFlag;
import io.siphon.nbd.protocol.BlockStatusDescriptor;
import io.siphon.nbd.protocol.CommandFlags;
import io.siphon.nbd.protocol.CommandType;
import io.siphon.nbd.protocol.NbdError;
import io.siphon.nbd.protocol.Request;
import io.siphon.util.Checked;
import io.siphon.util.NoSpace;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.NonWritableChannelException;
import java.nio.file.AccessDeniedException;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one transmission request against the export's device and sends its reply. Every request is
 * checked here, once, before the device sees it (flags, range, size, permissions). Thread-safe: many
 * requests of one connection run at once.
 */
final class CommandRunner {
    private static final Logger LOG = LoggerFactory.getLogger(CommandRunner.class);
    private static final int CACHE_CHUNK_BYTES = 1 << 20;
    /** Reads at least this long are checked for all-zero data, to send a hole chunk instead. */
    private static final int HOLE_CHECK_MIN_BYTES = 64 << 10;

    private static final ByteBuffer ZEROES = ByteBuffer.allocateDirect(HOLE_CHECK_MIN_BYTES);

    private final Export export;
    private final BlockDevice device;
    private final Replies replies;
    private final BufferPool buffers;
    private final boolean structured;
    private final boolean allocationContext;

    CommandRunner(Export export, Replies replies, BufferPool buffers, boolean structured, boolean allocationContext) {
        this.export = export;
        this.device = export.device();
        this.replies = replies;
        this.buffers = buffers;
        this.structured = structured;
        this.allocationContext = allocationContext;
    }

    /** Flags each command accepts; any other flag is EINVAL. */
    private int allowedFlags(CommandType type) {
        return switch (type) {
            case READ -> structured ? CommandFlags.DF : 0;
            case WRITE, TRIM -> CommandFlags.FUA;
            case WRITE_ZEROES -> CommandFlags.FUA | CommandFlags.NO_HOLE | CommandFlags.FAST_ZERO;
            case BLOCK_STATUS -> CommandFlags.REQ_ONE;
            case FLUSH, CACHE, DISC -> 0;
        };
    }

    /**
     * Runs {@code request} ({@code payload} holds a WRITE's data) and sends its reply; returns
     * whether the reply was a success. An IOException means the reply could not be sent.
     */
    boolean run(Request request, CommandType type, ByteBuffer payload) throws IOException {
        NbdError refusal = check(request, type);
        if (refusal != null) {
            fail(request, type, refusal, refusalMessage(request, type, refusal));
            return false;
        }
        try {
            switch (type) {
                case READ -> read(request);
                case WRITE -> {
                    device.write(request.offsetBytes(), payload, fua(request));
                    replies.simple(request.cookie(), 0);
                }
                case WRITE_ZEROES -> {
                    device.writeZeroes(request.offsetBytes(), request.lengthBytes(), zeroFlags(request));
                    replies.simple(request.cookie(), 0);
                }
                case TRIM -> {
                    device.discard(request.offsetBytes(), request.lengthBytes());
                    if (request.hasFlag(CommandFlags.FUA)) {
                        device.flush();
                    }
                    replies.simple(request.cookie(), 0);
                }
                case FLUSH -> {
                    device.flush();
                    replies.simple(request.cookie(), 0);
                }
                case CACHE -> {
                    cache(request);
                    replies.simple(request.cookie(), 0);
                }
                case BLOCK_STATUS -> blockStatus(request);
                case DISC -> throw new IllegalStateException("DISC is handled by the session");
            }
        } catch (IOException | RuntimeException e) {
            if (!(e instanceof IOException) && !(e instanceof IllegalArgumentException)) {
                LOG.error("{} on export '{}' failed unexpectedly", type, export.name(), e);
            } else {
                LOG.debug("{} on export '{}' failed: {}", type, export.name(), e.toString());
            }
            NbdError error = errorOf(e);
            fail(request, type, error, type + " at offset " + request.offsetBytes() + " failed: " + e.getMessage());
            return false;
        }
        return true;
    }

    /** The error the spec names for a request that must not reach the device, or null. */
    private NbdError check(Request request, CommandType type) {
        if ((request.flags() & ~allowedFlags(type)) != 0) {
            return NbdError.EINVAL;
        }
        boolean writes = type == CommandType.WRITE || type == CommandType.WRITE_ZEROES || type == CommandType.TRIM;
        if (writes && !export.writable()) {
            return NbdError.EPERM;
        }
        if (type == CommandType.FLUSH) {
            return null;
        }
        if (!Checked.within(request.offsetBytes(), request.lengthBytes(), device.sizeBytes())) {
            return writes ? NbdError.ENOSPC : NbdError.EINVAL;
        }
        if (type == CommandType.READ && request.lengthBytes() > WireLimits.MAX_PAYLOAD_BYTES) {
            return NbdError.EINVAL;
        }
        if (type == CommandType.BLOCK_STATUS && (!allocationContext || request.lengthBytes() == 0)) {
            return NbdError.EINVAL;
        }
        return null;
    }

    private String refusalMessage(Request request, CommandType type, NbdError error) {
        return switch (error) {
            case EPERM -> "export '" + export.name() + "' is read-only";
            case ENOSPC, EINVAL ->
                type + " flags 0x" + Integer.toHexString(request.flags()) + " offset "
                        + Long.toUnsignedString(request.offsetBytes()) + " length " + request.lengthBytes()
                        + " refused (export size " + device.sizeBytes() + ", max request "
                        + WireLimits.MAX_PAYLOAD_BYTES + ", base:allocation " + (allocationContext ? "on" : "off")
                        + ")";
            default -> error.name();
        };
    }

    private void read(Request request) throws IOException {
        ByteBuffer data = buffers.take((int) request.lengthBytes());
        try {
            device.read(request.offsetBytes(), data, Set.of());
            if (data.hasRemaining()) {
                // a reply shorter than the request would put the stream out of step: answer EIO instead
                throw new IOException("short read at offset " + request.offsetBytes() + ": " + data.remaining() + " of "
                        + request.lengthBytes() + " bytes were not read");
            }
            data.flip();
            if (!structured) {
                replies.simpleData(request.cookie(), data);
            } else if (!request.hasFlag(CommandFlags.DF) && allZero(data)) {
                replies.holeChunk(request.cookie(), request.offsetBytes(), data.remaining());
            } else {
                replies.dataChunk(request.cookie(), request.offsetBytes(), data);
            }
        } finally {
            buffers.give(data);
        }
    }

    private static boolean allZero(ByteBuffer data) {
        if (data.remaining() < HOLE_CHECK_MIN_BYTES) {
            return false;
        }
        for (int at = 0; at < data.limit(); at += HOLE_CHECK_MIN_BYTES) {
            int n = Math.min(HOLE_CHECK_MIN_BYTES, data.limit() - at);
            if (data.slice(at, n).mismatch(ZEROES.slice(0, n)) != -1) {
                return false;
            }
        }
        return true;
    }

    private void cache(Request request) throws IOException {
        ByteBuffer scratch = buffers.take((int) Math.min(CACHE_CHUNK_BYTES, request.lengthBytes()));
        try {
            long done = 0;
            while (done < request.lengthBytes()) {
                scratch.clear().limit((int) Math.min(CACHE_CHUNK_BYTES, request.lengthBytes() - done));
                device.read(request.offsetBytes() + done, scratch, Set.of());
                done += scratch.limit();
            }
        } finally {
            buffers.give(scratch);
        }
    }

    private void blockStatus(Request request) throws IOException {
        int limit = request.hasFlag(CommandFlags.REQ_ONE) ? 1 : WireLimits.MAX_STATUS_DESCRIPTORS;
        List<BlockStatusDescriptor> descriptors =
                AllocationStatus.of(device, request.offsetBytes(), request.lengthBytes(), limit);
        replies.statusChunk(request.cookie(), Handshake.ALLOCATION_CONTEXT_ID, descriptors);
    }

    private static Set<RequestFlag> fua(Request request) {
        return request.hasFlag(CommandFlags.FUA) ? Set.of(RequestFlag.FUA) : Set.of();
    }

    private static Set<RequestFlag> zeroFlags(Request request) {
        EnumSet<RequestFlag> flags = EnumSet.noneOf(RequestFlag.class);
        if (request.hasFlag(CommandFlags.FUA)) {
            flags.add(RequestFlag.FUA);
        }
        if (!request.hasFlag(CommandFlags.NO_HOLE)) {
            flags.add(RequestFlag.MAY_UNMAP);
        }
        if (request.hasFlag(CommandFlags.FAST_ZERO)) {
            flags.add(RequestFlag.NO_FALLBACK);
        }
        return flags;
    }

    private static NbdError errorOf(Exception e) {
        if (e instanceof FastZeroUnsupportedException) {
            return NbdError.ENOTSUP;
        }
        if (e instanceof IllegalArgumentException) {
            return NbdError.EINVAL;
        }
        if (e instanceof NonWritableChannelException || e instanceof AccessDeniedException) {
            return NbdError.EPERM;
        }
        if (NoSpace.is(e)) {
            return NbdError.ENOSPC;
        }
        return NbdError.EIO;
    }

    /** Answers {@code request} with {@code error} without running it. */
    void refuse(Request request, CommandType type, NbdError error, String message) throws IOException {
        fail(request, type, error, message);
    }

    private void fail(Request request, CommandType type, NbdError error, String message) throws IOException {
        boolean chunked = structured && (type == CommandType.READ || type == CommandType.BLOCK_STATUS);
        if (chunked) {
            replies.errorChunk(request.cookie(), error, message);
        } else {
            replies.simple(request.cookie(), error.code());
        }
    }
}
