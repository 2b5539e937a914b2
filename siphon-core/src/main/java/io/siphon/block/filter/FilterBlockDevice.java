package io.siphon.block.filter;

import io.siphon.block.BlockDevice;
import io.siphon.block.Extent;
import io.siphon.block.RequestFlag;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * A block device that passes every request to {@link #next}; a filter overrides only what it
 * changes. Closing a filter does not close {@code next}: whoever opened the node below owns it.
 * Thread-safe when {@code next} is.
 */
public abstract class FilterBlockDevice implements BlockDevice {
    /** The node requests go to. */
    protected final BlockDevice next;

    protected FilterBlockDevice(BlockDevice next) {
        this.next = Objects.requireNonNull(next, "next");
    }

    /** The node below this filter. */
    public BlockDevice next() {
        return next;
    }

    @Override
    public long sizeBytes() {
        return next.sizeBytes();
    }

    @Override
    public boolean isReadOnly() {
        return next.isReadOnly();
    }

    @Override
    public void read(long offsetBytes, ByteBuffer dst, Set<RequestFlag> flags) throws IOException {
        next.read(offsetBytes, dst, flags);
    }

    @Override
    public void write(long offsetBytes, ByteBuffer src, Set<RequestFlag> flags) throws IOException {
        next.write(offsetBytes, src, flags);
    }

    @Override
    public void writeZeroes(long offsetBytes, long lengthBytes, Set<RequestFlag> flags) throws IOException {
        next.writeZeroes(offsetBytes, lengthBytes, flags);
    }

    @Override
    public void discard(long offsetBytes, long lengthBytes) throws IOException {
        next.discard(offsetBytes, lengthBytes);
    }

    @Override
    public void flush() throws IOException {
        next.flush();
    }

    @Override
    public List<Extent> blockStatus(long offsetBytes, long lengthBytes) throws IOException {
        return next.blockStatus(offsetBytes, lengthBytes);
    }

    @Override
    public void close() throws IOException {
        // next belongs to whoever opened it
    }
}
