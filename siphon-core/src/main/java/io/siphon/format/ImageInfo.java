package io.siphon.format;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * What {@code info} shows of one image.
 *
 * @param formatSpecific format-specific facts with qemu-img's JSON names (compat, lazy-refcounts,
 *     refcount-bits, corrupt...), in display order; values are String, Number or Boolean
 */
public record ImageInfo(
        String format,
        Path path,
        long virtualSizeBytes,
        OptionalInt clusterSizeBytes,
        Optional<BackingReference> backing,
        boolean dirty,
        Map<String, Object> formatSpecific) {
    public ImageInfo {
        formatSpecific = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(formatSpecific));
    }
}
