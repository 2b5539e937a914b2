package io.siphon.nbd.server;

import io.siphon.block.BlockDevice;
import io.siphon.block.Extent;
import io.siphon.block.filter.FilterBlockDevice;
import io.siphon.format.Image;
import io.siphon.nbd.protocol.BlockStatusDescriptor;
import io.siphon.nbd.protocol.MetaContexts;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The base:allocation view of an export: what a client reading it would see, through the whole
 * chain. A range the top does not hold is asked of its backing; only where no image holds it is it
 * a hole that reads as zeroes.
 *
 * <p>Filters ({@link FilterBlockDevice}) report their node's status, so the chain is found under
 * them. A device that is neither an image nor a filter does not say what is below it: its
 * unallocated ranges are reported as data, since status 0 is always safe.
 */
final class AllocationStatus {
    private static final int HOLE_AND_ZERO = MetaContexts.STATE_HOLE | MetaContexts.STATE_ZERO;

    private final List<BlockStatusDescriptor> out = new ArrayList<>();
    private final int maxDescriptors;
    private long pendingLength;
    private int pendingFlags = -1;

    private AllocationStatus(int maxDescriptors) {
        this.maxDescriptors = maxDescriptors;
    }

    /**
     * Descriptors for {@code [offsetBytes, offsetBytes + lengthBytes)}, merged where flags repeat;
     * at most {@code maxDescriptors} of them, covering a prefix of the range.
     */
    static List<BlockStatusDescriptor> of(BlockDevice device, long offsetBytes, long lengthBytes, int maxDescriptors)
            throws IOException {
        AllocationStatus status = new AllocationStatus(maxDescriptors);
        status.walk(device, offsetBytes, lengthBytes);
        status.emitPending();
        return List.copyOf(status.out);
    }

    private boolean full() {
        return out.size() >= maxDescriptors;
    }

    private void walk(BlockDevice device, long offsetBytes, long lengthBytes) throws IOException {
        long position = offsetBytes;
        long end = offsetBytes + lengthBytes;
        while (position < end && !full()) {
            List<Extent> extents = device.blockStatus(position, end - position);
            if (extents.isEmpty()) {
                throw new IOException("block status of " + device + " at " + position + " returned no extent");
            }
            if (extents.getFirst().offsetBytes() != position) {
                throw new IOException("block status of " + device + " at " + position + " started at "
                        + extents.getFirst().offsetBytes());
            }
            for (Extent extent : extents) {
                if (extent.offsetBytes() != position || full()) {
                    break;
                }
                long length = Math.min(extent.lengthBytes(), end - position);
                switch (extent.allocation()) {
                    case DATA -> add(length, 0);
                    case ZERO -> add(length, HOLE_AND_ZERO);
                    case UNALLOCATED -> below(device, position, length);
                }
                position += length;
                if (position >= end) {
                    break;
                }
            }
        }
    }

    private void below(BlockDevice device, long offsetBytes, long lengthBytes) throws IOException {
        BlockDevice node = device;
        while (node instanceof FilterBlockDevice filter) {
            node = filter.next();
        }
        if (!(node instanceof Image image)) {
            add(lengthBytes, 0);
            return;
        }
        Optional<BlockDevice> backing = image.backing();
        if (backing.isEmpty()) {
            add(lengthBytes, HOLE_AND_ZERO);
            return;
        }
        long backingSize = backing.get().sizeBytes();
        long insideBacking = Math.max(0, Math.min(lengthBytes, backingSize - offsetBytes));
        if (insideBacking > 0) {
            walk(backing.get(), offsetBytes, insideBacking);
        }
        if (insideBacking < lengthBytes && !full()) {
            add(lengthBytes - insideBacking, HOLE_AND_ZERO);
        }
    }

    private void add(long lengthBytes, int flags) {
        if (flags == pendingFlags && pendingLength + lengthBytes <= BlockStatusDescriptor.MAX_LENGTH_BYTES) {
            pendingLength += lengthBytes;
            return;
        }
        emitPending();
        pendingFlags = flags;
        pendingLength = lengthBytes;
    }

    private void emitPending() {
        if (pendingLength > 0 && !full()) {
            out.add(new BlockStatusDescriptor(pendingLength, pendingFlags));
        }
        pendingLength = 0;
        pendingFlags = -1;
    }
}
