package io.siphon.format.qcow2;

import io.siphon.block.BlockDevice;
import io.siphon.block.Extent;
import io.siphon.block.RequestFlag;
import io.siphon.format.ImageChain;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Set;

/** The top of an open chain as a device; closing it closes the chain. */
final class ChainDevice implements BlockDevice {
    private final ImageChain chain;

    ChainDevice(ImageChain chain) {
        this.chain = chain;
    }

    @Override
    public long sizeBytes() {
        return chain.top().sizeBytes();
    }

    @Override
    public boolean isReadOnly() {
        return chain.top().isReadOnly();
    }

    @Override
    public void read(long offsetBytes, ByteBuffer dst, Set<RequestFlag> flags) throws IOException {
        chain.top().read(offsetBytes, dst, flags);
    }

    @Override
    public void write(long offsetBytes, ByteBuffer src, Set<RequestFlag> flags) throws IOException {
        chain.top().write(offsetBytes, src, flags);
    }

    @Override
    public void writeZeroes(long offsetBytes, long lengthBytes, Set<RequestFlag> flags) throws IOException {
        chain.top().writeZeroes(offsetBytes, lengthBytes, flags);
    }

    @Override
    public void discard(long offsetBytes, long lengthBytes) throws IOException {
        chain.top().discard(offsetBytes, lengthBytes);
    }

    @Override
    public void flush() throws IOException {
        chain.top().flush();
    }

    @Override
    public List<Extent> blockStatus(long offsetBytes, long lengthBytes) throws IOException {
        return chain.top().blockStatus(offsetBytes, lengthBytes);
    }

    @Override
    public void close() throws IOException {
        chain.close();
    }
}
