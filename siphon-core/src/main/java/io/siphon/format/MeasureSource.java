package io.siphon.format;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What is measured for a new image: a virtual size, the ranges of a source that hold data (none
 * when only a size is given), and the source's persistent bitmaps when its format keeps them.
 *
 * @param dataRanges ranges that read data other than zeroes, in order, each {@code {start, length}}
 *     in bytes
 * @param bitmaps the source's persistent bitmaps; empty when the source's format has none to keep
 */
public record MeasureSource(long sizeBytes, List<long[]> dataRanges, Optional<List<Bitmap>> bitmaps) {
    /** One persistent dirty bitmap of the source. */
    public record Bitmap(String name, long granularityBytes) {}

    public MeasureSource {
        dataRanges = List.copyOf(dataRanges);
        Objects.requireNonNull(bitmaps, "bitmaps");
        bitmaps = bitmaps.map(List::copyOf);
        if (sizeBytes < 0) {
            throw new IllegalArgumentException("negative size " + sizeBytes);
        }
    }

    /** A size alone ({@code measure --size}). */
    public static MeasureSource ofSize(long sizeBytes) {
        return new MeasureSource(sizeBytes, List.of(), Optional.empty());
    }
}
