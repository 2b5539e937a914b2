package io.siphon.daemon.web;

import io.siphon.block.BlockDevice;
import io.siphon.block.Extent;
import io.siphon.format.Image;
import java.io.IOException;
import java.util.List;

/**
 * Where a disk's data is, as a strip of at most {@link #MAX_CELLS} equal cells over its virtual
 * size: each cell is {@code T} (the top holds it all, or all the top lacks reads as zeroes), {@code
 * t} (the top holds part, the rest still comes from the template), {@code B} (all from the
 * template), or {@code Z} (no image holds it: zeroes). Read from the images' block status, as a
 * trusted internal caller walking ranges derived from their own sizes.
 *
 * @param cellBytes the bytes of the virtual disk one cell stands for (the last may be shorter)
 * @param cells one character per cell
 */
record AllocationMap(long cellBytes, String cells) {
    static final int MAX_CELLS = 256;
    private static final long MIN_CELL_BYTES = 64 * 1024;

    /** The map of a chain, top first. */
    static AllocationMap of(List<Image> chain) throws IOException {
        Image top = chain.getFirst();
        long size = top.sizeBytes();
        long cell = Math.max(MIN_CELL_BYTES, ceilDiv(size, MAX_CELLS));
        cell = ceilDiv(cell, MIN_CELL_BYTES) * MIN_CELL_BYTES;
        int count = (int) ceilDiv(size, cell);
        long[] topBytes = new long[count];
        long[] templateBytes = new long[count];
        Tally tally = new Tally(cell, size);
        walk(top, 0, size, extent -> {
            if (extent.allocation().isAllocated()) {
                tally.add(topBytes, extent.offsetBytes(), extent.endBytes());
            } else {
                below(chain, 1, extent.offsetBytes(), extent.endBytes(), templateBytes, tally);
            }
        });
        StringBuilder cells = new StringBuilder(count);
        for (int i = 0; i < count; i++) {
            long length = Math.min(cell, size - i * cell);
            if (templateBytes[i] == 0) {
                cells.append(topBytes[i] > 0 || length == 0 ? 'T' : 'Z');
            } else {
                cells.append(topBytes[i] > 0 ? 't' : 'B');
            }
        }
        return new AllocationMap(cell, cells.toString());
    }

    /** Counts the data {@code chain[index..]} holds in {@code [from, to)} as the template's. */
    private static void below(List<Image> chain, int index, long from, long to, long[] templateBytes, Tally tally)
            throws IOException {
        if (index >= chain.size()) {
            return; // no image holds it: zeroes
        }
        Image image = chain.get(index);
        long end = Math.min(to, image.sizeBytes()); // past a shorter backing: zeroes
        if (from >= end) {
            return;
        }
        walk(image, from, end, extent -> {
            switch (extent.allocation()) {
                case DATA -> tally.add(templateBytes, extent.offsetBytes(), extent.endBytes());
                case ZERO -> {}
                case UNALLOCATED ->
                    below(chain, index + 1, extent.offsetBytes(), extent.endBytes(), templateBytes, tally);
            }
        });
    }

    @FunctionalInterface
    private interface ExtentVisitor {
        void visit(Extent extent) throws IOException;
    }

    /** Visits the extents of {@code [from, to)}, asking again where an answer covers only a prefix. */
    private static void walk(BlockDevice device, long from, long to, ExtentVisitor visitor) throws IOException {
        long position = from;
        while (position < to) {
            long asked = position;
            List<Extent> extents = device.blockStatus(position, to - position);
            if (extents.isEmpty()) {
                throw new IOException("block status of " + device + " at " + position + " returned no extent");
            }
            for (Extent extent : extents) {
                long start = Math.max(extent.offsetBytes(), position);
                long stop = Math.min(extent.endBytes(), to);
                if (stop > start) {
                    visitor.visit(new Extent(start, stop - start, extent.allocation()));
                    position = stop;
                }
            }
            if (position == asked) {
                throw new IOException("block status of " + device + " at " + position + " did not cover it");
            }
        }
    }

    /** Adds byte ranges to the cells they fall in. */
    private record Tally(long cellBytes, long sizeBytes) {
        void add(long[] cells, long from, long to) {
            long position = from;
            long end = Math.min(to, sizeBytes);
            while (position < end) {
                int index = (int) (position / cellBytes);
                long cellEnd = Math.min((index + 1) * cellBytes, end);
                cells[index] += cellEnd - position;
                position = cellEnd;
            }
        }
    }

    private static long ceilDiv(long value, long divisor) {
        return Math.max(1, Math.ceilDiv(value, divisor));
    }
}
