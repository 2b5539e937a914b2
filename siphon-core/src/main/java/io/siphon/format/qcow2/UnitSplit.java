package io.siphon.format.qcow2;

import io.siphon.util.Alignment;
import java.util.ArrayList;
import java.util.List;

/**
 * A guest range cut at the boundaries of a unit (a cluster, or a subcluster): the whole units it
 * covers, and the partial pieces around them, each inside one unit. Zeroing and discard act on
 * whole units through the L2 tables and treat the pieces apart.
 *
 * @param wholeStart start of the whole units ({@code wholeEnd} when there are none)
 * @param wholeEnd end of the whole units; up to a whole unit past the disk's end when the range
 *     ends there (the last unit of a disk whose size is not a multiple of it counts as whole)
 * @param partial {@code {start, end}} pieces that cover part of a unit
 */
record UnitSplit(long wholeStart, long wholeEnd, List<long[]> partial) {
    UnitSplit {
        partial = List.copyOf(partial);
    }

    /** {@code [start, end)} of a disk of {@code sizeBytes}, cut at multiples of {@code unit}. */
    static UnitSplit of(long start, long end, long unit, long sizeBytes) {
        long wholeStart = Alignment.alignUp(start, unit);
        long wholeEnd = end == sizeBytes ? Alignment.alignUp(end, unit) : Alignment.alignDown(end, unit);
        List<long[]> partial = new ArrayList<>();
        if (wholeStart >= wholeEnd) {
            // no whole unit: the range touches one or two units, each partly
            for (long at = start; at < end; ) {
                long pieceEnd = Math.min(end, Alignment.alignDown(at, unit) + unit);
                partial.add(new long[] {at, pieceEnd});
                at = pieceEnd;
            }
            return new UnitSplit(end, end, partial);
        }
        if (start < wholeStart) {
            partial.add(new long[] {start, wholeStart});
        }
        if (wholeEnd < end) {
            partial.add(new long[] {wholeEnd, end});
        }
        return new UnitSplit(wholeStart, wholeEnd, partial);
    }

    boolean hasWhole() {
        return wholeStart < wholeEnd;
    }
}
