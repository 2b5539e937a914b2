package io.siphon.format;

import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * What {@code create} makes.
 *
 * @param sizeBytes virtual size; when a backing file is given and size is {@link #SIZE_OF_BACKING},
 *     the backing file's size
 * @param backing the backing link to record, if any
 * @param formatOptions format-specific options as {@code qemu-img -o} takes them (cluster_size,
 *     compat, refcount_bits, lazy_refcounts...); a format refuses options it does not know
 * @param remote which remote backing names may be opened to read the backing's size and format
 */
public record CreateOptions(
        long sizeBytes,
        Optional<BackingReference> backing,
        Map<String, String> formatOptions,
        RemoteBackingPolicy remote) {
    public static final long SIZE_OF_BACKING = -1;

    public CreateOptions {
        Objects.requireNonNull(backing, "backing");
        Objects.requireNonNull(remote, "remote");
        formatOptions = Map.copyOf(formatOptions);
        if (sizeBytes < 0 && sizeBytes != SIZE_OF_BACKING) {
            throw new IllegalArgumentException("negative size " + sizeBytes);
        }
    }

    public CreateOptions(long sizeBytes, Optional<BackingReference> backing, Map<String, String> formatOptions) {
        this(sizeBytes, backing, formatOptions, RemoteBackingPolicy.LOCAL_ONLY);
    }

    public static CreateOptions ofSize(long sizeBytes) {
        return new CreateOptions(sizeBytes, Optional.empty(), Map.of());
    }
}
