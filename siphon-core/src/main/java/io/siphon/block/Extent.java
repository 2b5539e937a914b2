package io.siphon.block;

import java.util.OptionalLong;

/**
 * A contiguous range of a device with one allocation status.
 *
 * @param offsetBytes guest offset of the range
 * @param lengthBytes length of the range, positive
 * @param allocation what the node holds there
 * @param hostOffsetBytes where the range's data starts in the image file, or {@link #NO_HOST_OFFSET}
 */
public record Extent(long offsetBytes, long lengthBytes, Allocation allocation, long hostOffsetBytes) {
    public static final long NO_HOST_OFFSET = -1;

    public Extent {
        if (offsetBytes < 0 || lengthBytes <= 0) {
            throw new IllegalArgumentException("bad extent: offset " + offsetBytes + ", length " + lengthBytes);
        }
        if (hostOffsetBytes < NO_HOST_OFFSET) {
            throw new IllegalArgumentException("bad host offset " + hostOffsetBytes);
        }
    }

    public Extent(long offsetBytes, long lengthBytes, Allocation allocation) {
        this(offsetBytes, lengthBytes, allocation, NO_HOST_OFFSET);
    }

    public long endBytes() {
        return offsetBytes + lengthBytes;
    }

    public OptionalLong hostOffset() {
        return hostOffsetBytes == NO_HOST_OFFSET ? OptionalLong.empty() : OptionalLong.of(hostOffsetBytes);
    }
}
