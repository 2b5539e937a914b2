package io.siphon.cli.image;

import io.siphon.block.Allocation;
import io.siphon.block.Extent;
import io.siphon.cli.view.MapEntry;
import io.siphon.format.Image;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Which image of a chain answers each range, from each image's own block status, walking down the
 * chain where an image holds nothing, as qemu-img map does. Not thread-safe.
 */
final class ChainMap {
    /** qemu-img asks for at most this much at a time; entries are merged afterwards anyway. */
    private static final long MAX_QUERY_BYTES = 1L << 30;

    private final List<Image> images;
    private final List<String> names;

    /**
     * @param images the chain, top first
     * @param names each image's display name, top first
     */
    ChainMap(List<Image> images, List<String> names) {
        if (images.isEmpty() || images.size() != names.size()) {
            throw new IllegalArgumentException(images.size() + " images but " + names.size() + " names");
        }
        this.images = List.copyOf(images);
        this.names = List.copyOf(names);
    }

    /** The chain's size: the top image's. */
    long sizeBytes() {
        return images.getFirst().sizeBytes();
    }

    /** The entry starting at {@code offsetBytes}, no longer than {@code maxLengthBytes}; unmerged. */
    MapEntry entryAt(long offsetBytes, long maxLengthBytes) throws IOException {
        long length = Math.min(maxLengthBytes, sizeBytes() - offsetBytes);
        for (int depth = 0; ; depth++) {
            Image image = images.get(depth);
            Extent extent = image.blockStatus(offsetBytes, length).getFirst();
            length = Math.min(length, extent.lengthBytes());
            if (extent.allocation().isAllocated()) {
                OptionalLong host = extent.hostOffset();
                return new MapEntry(
                        offsetBytes,
                        length,
                        depth,
                        true,
                        extent.allocation() == Allocation.ZERO,
                        extent.allocation() == Allocation.DATA,
                        host,
                        host.isPresent() ? Optional.of(names.get(depth)) : Optional.empty());
            }
            boolean bottom = depth + 1 == images.size();
            if (bottom) {
                // nothing below holds the range: it reads as zeroes (where qcow2 has a host cluster
                // for unallocated subclusters, qemu-img shows its offset)
                OptionalLong host = extent.hostOffset();
                return new MapEntry(
                        offsetBytes,
                        length,
                        depth,
                        false,
                        true,
                        false,
                        host,
                        host.isPresent() ? Optional.of(names.get(depth)) : Optional.empty());
            }
            if (offsetBytes >= images.get(depth + 1).sizeBytes()) {
                return new MapEntry(
                        offsetBytes, length, depth, false, true, false, OptionalLong.empty(), Optional.empty());
            }
            length = Math.min(length, images.get(depth + 1).sizeBytes() - offsetBytes);
        }
    }

    /** The whole chain, adjacent entries that continue each other merged. */
    List<MapEntry> entries() throws IOException {
        return entries(0, sizeBytes());
    }

    /**
     * The range {@code [startBytes, endBytes)} (end capped at the size), merged likewise; an empty
     * range is one empty entry at {@code startBytes}, as qemu-img map prints it.
     */
    List<MapEntry> entries(long startBytes, long endBytes) throws IOException {
        long end = Math.min(endBytes, sizeBytes());
        List<MapEntry> entries = new ArrayList<>();
        if (startBytes >= end) {
            entries.add(new MapEntry(startBytes, 0, 0, false, false, false, OptionalLong.empty(), Optional.empty()));
            return entries;
        }
        long offset = startBytes;
        while (offset < end) {
            MapEntry next = entryAt(offset, Math.min(MAX_QUERY_BYTES, end - offset));
            offset = next.endBytes();
            if (!entries.isEmpty() && entries.getLast().mergeableWith(next)) {
                MapEntry last = entries.removeLast();
                entries.add(last.withLength(last.lengthBytes() + next.lengthBytes()));
            } else {
                entries.add(next);
            }
        }
        return entries;
    }
}
