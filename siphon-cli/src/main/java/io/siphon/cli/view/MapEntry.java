package io.siphon.cli.view;

import java.util.Optional;
import java.util.OptionalLong;

/**
 * One range of a chain as qemu-img map reports it.
 *
 * @param startBytes guest offset
 * @param lengthBytes length of the range
 * @param depth index in the chain (0 = top) of the image that answers reads of the range
 * @param present whether that image holds the range (false: it reads zeroes past the chain's end)
 * @param zero whether the range reads as zeroes
 * @param data whether the range holds data
 * @param hostOffsetBytes where the range lies in that image's file, when it lies in one place
 * @param file the image's display name, with the host offset
 */
public record MapEntry(
        long startBytes,
        long lengthBytes,
        int depth,
        boolean present,
        boolean zero,
        boolean data,
        OptionalLong hostOffsetBytes,
        Optional<String> file) {
    public long endBytes() {
        return startBytes + lengthBytes;
    }

    public MapEntry withLength(long newLengthBytes) {
        return new MapEntry(startBytes, newLengthBytes, depth, present, zero, data, hostOffsetBytes, file);
    }

    /** Whether {@code next} continues this entry, so that qemu-img prints them as one. */
    public boolean mergeableWith(MapEntry next) {
        if (zero != next.zero || data != next.data || depth != next.depth || present != next.present) {
            return false;
        }
        if (!file.equals(next.file) || hostOffsetBytes.isPresent() != next.hostOffsetBytes.isPresent()) {
            return false;
        }
        return hostOffsetBytes.isEmpty()
                || hostOffsetBytes.getAsLong() + lengthBytes == next.hostOffsetBytes.getAsLong();
    }

    /** qemu-img map's JSON line (without the separator). */
    public String json() {
        StringBuilder out = new StringBuilder()
                .append("{ \"start\": ")
                .append(startBytes)
                .append(", \"length\": ")
                .append(lengthBytes)
                .append(", \"depth\": ")
                .append(depth)
                .append(", \"present\": ")
                .append(present)
                .append(", \"zero\": ")
                .append(zero)
                .append(", \"data\": ")
                .append(data);
        hostOffsetBytes.ifPresent(offset -> out.append(", \"offset\": ").append(offset));
        return out.append('}').toString();
    }
}
