package io.siphon.nbd.client;

import io.siphon.block.Allocation;
import io.siphon.block.BlockDevice;
import io.siphon.block.Extent;
import io.siphon.block.FastZeroUnsupportedException;
import io.siphon.block.RequestFlag;
import io.siphon.nbd.protocol.BlockStatusDescriptor;
import io.siphon.nbd.protocol.CommandFlags;
import io.siphon.nbd.protocol.MetaContexts;
import io.siphon.nbd.protocol.NbdError;
import io.siphon.util.Checked;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * A remote NBD export as a {@link BlockDevice}: requests are checked against the export's size and
 * split to the server's maximum. Block status is the server's view of the whole export: data or
 * zero, never unallocated. Thread-safe (requests go one at a time over the client's connection).
 */
public final class NbdBlockDevice implements BlockDevice {
    /** Largest length sent in one trim, write-zeroes or block status request (lengths are 32-bit). */
    private static final long MAX_RANGE_BYTES = 1L << 30;

    private final NbdClient client;

    private NbdBlockDevice(NbdClient client) {
        this.client = client;
    }

    /** Wraps a connected client; closing the device disconnects it. */
    public static NbdBlockDevice of(NbdClient client) {
        return new NbdBlockDevice(client);
    }

    @Override
    public long sizeBytes() {
        return client.sizeBytes();
    }

    @Override
    public boolean isReadOnly() {
        return client.isReadOnly();
    }

    @Override
    public void read(long offsetBytes, ByteBuffer dst, Set<RequestFlag> flags) throws IOException {
        Checked.requireWithin(offsetBytes, dst.remaining(), sizeBytes());
        long position = offsetBytes;
        while (dst.hasRemaining()) {
            int n = (int) Math.min(dst.remaining(), client.maxBlockBytes());
            ByteBuffer part = dst.slice(dst.position(), n);
            client.read(position, part);
            dst.position(dst.position() + n);
            position += n;
        }
    }

    @Override
    public void write(long offsetBytes, ByteBuffer src, Set<RequestFlag> flags) throws IOException {
        Checked.requireWithin(offsetBytes, src.remaining(), sizeBytes());
        long position = offsetBytes;
        while (src.hasRemaining()) {
            int n = (int) Math.min(src.remaining(), client.maxBlockBytes());
            client.write(position, src.slice(src.position(), n), flags.contains(RequestFlag.FUA));
            src.position(src.position() + n);
            position += n;
        }
    }

    @Override
    public void writeZeroes(long offsetBytes, long lengthBytes, Set<RequestFlag> flags) throws IOException {
        Checked.requireWithin(offsetBytes, lengthBytes, sizeBytes());
        int wireFlags = (flags.contains(RequestFlag.FUA) ? CommandFlags.FUA : 0)
                | (flags.contains(RequestFlag.MAY_UNMAP) ? 0 : CommandFlags.NO_HOLE)
                | (flags.contains(RequestFlag.NO_FALLBACK) ? CommandFlags.FAST_ZERO : 0);
        for (long done = 0; done < lengthBytes; done += MAX_RANGE_BYTES) {
            long n = Math.min(MAX_RANGE_BYTES, lengthBytes - done);
            try {
                client.writeZeroes(offsetBytes + done, n, wireFlags);
            } catch (NbdReplyException e) {
                if (e.errorCode() == NbdError.ENOTSUP.code()) {
                    throw new FastZeroUnsupportedException(e.getMessage());
                }
                throw e;
            }
        }
    }

    @Override
    public void discard(long offsetBytes, long lengthBytes) throws IOException {
        Checked.requireWithin(offsetBytes, lengthBytes, sizeBytes());
        for (long done = 0; done < lengthBytes; done += MAX_RANGE_BYTES) {
            client.trim(offsetBytes + done, Math.min(MAX_RANGE_BYTES, lengthBytes - done));
        }
    }

    @Override
    public void flush() throws IOException {
        client.flush();
    }

    @Override
    public List<Extent> blockStatus(long offsetBytes, long lengthBytes) throws IOException {
        Checked.requireWithin(offsetBytes, lengthBytes, sizeBytes());
        if (lengthBytes == 0) {
            return List.of();
        }
        long asked = Math.min(lengthBytes, MAX_RANGE_BYTES);
        if (!client.hasAllocationContext()) {
            return List.of(new Extent(offsetBytes, asked, Allocation.DATA));
        }
        List<Extent> extents = new ArrayList<>();
        long position = offsetBytes;
        for (BlockStatusDescriptor descriptor : client.blockStatus(offsetBytes, asked)) {
            long n = Math.min(descriptor.lengthBytes(), offsetBytes + asked - position);
            if (n <= 0) {
                break;
            }
            boolean zero = (descriptor.flags() & MetaContexts.STATE_ZERO) != 0;
            extents.add(new Extent(position, n, zero ? Allocation.ZERO : Allocation.DATA));
            position += n;
        }
        if (extents.isEmpty()) {
            throw new IOException("server sent no block status descriptor for offset " + offsetBytes);
        }
        return extents;
    }

    @Override
    public void close() throws IOException {
        client.disconnect();
    }
}
