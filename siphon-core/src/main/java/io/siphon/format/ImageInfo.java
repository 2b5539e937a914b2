package io.siphon.format;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * What {@code info} shows of one image.
 *
 * @param formatSpecific format-specific facts with qemu-img's JSON names (compat, lazy-refcounts,
 *     bitmaps, refcount-bits, corrupt...), in display order; values are String, Number, Boolean, or
 *     Lists and Maps (in display order) of those
 * @param actualSizeBytes bytes the image file occupies on disk (qemu-img's actual-size), when known
 * @param snapshots the internal snapshots, oldest first
 */
public record ImageInfo(
        String format,
        Path path,
        long virtualSizeBytes,
        OptionalInt clusterSizeBytes,
        Optional<BackingReference> backing,
        boolean dirty,
        Map<String, Object> formatSpecific,
        OptionalLong actualSizeBytes,
        List<ImageSnapshot> snapshots) {
    public ImageInfo {
        formatSpecific = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(formatSpecific));
        snapshots = List.copyOf(snapshots);
    }

    /** Info of an image without internal snapshots. */
    public ImageInfo(
            String format,
            Path path,
            long virtualSizeBytes,
            OptionalInt clusterSizeBytes,
            Optional<BackingReference> backing,
            boolean dirty,
            Map<String, Object> formatSpecific,
            OptionalLong actualSizeBytes) {
        this(
                format,
                path,
                virtualSizeBytes,
                clusterSizeBytes,
                backing,
                dirty,
                formatSpecific,
                actualSizeBytes,
                List.of());
    }

    /** Info without the actual size. */
    public ImageInfo(
            String format,
            Path path,
            long virtualSizeBytes,
            OptionalInt clusterSizeBytes,
            Optional<BackingReference> backing,
            boolean dirty,
            Map<String, Object> formatSpecific) {
        this(format, path, virtualSizeBytes, clusterSizeBytes, backing, dirty, formatSpecific, OptionalLong.empty());
    }
}
