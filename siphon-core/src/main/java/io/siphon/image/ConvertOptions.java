package io.siphon.image;

import io.siphon.format.BackingReference;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * What {@link ImageConverter} makes, as {@code qemu-img convert} takes it.
 *
 * @param sourceFormat the source's format, probed when empty
 * @param targetFormat the target's format (qcow2, qed, raw)
 * @param targetOptions the target's create options ({@code -o})
 * @param backing the target's backing file ({@code -B}): only what the source's top image holds is
 *     copied, the rest is left to the backing file
 * @param existingTarget write into an existing target instead of creating it ({@code -n})
 * @param parallelRequests copy requests in flight at once ({@code -m}, 1 to 16)
 * @param outOfOrder allow writes in any order ({@code -W}); without it, the copy runs in order and
 *     {@code parallelRequests} has no effect
 * @param sparseBytes runs of zeroes at least this long (and aligned to it) are not written ({@code
 *     -S}); 0 writes every byte read
 * @param forceShare open the source without locks ({@code -U})
 * @param compress write each cluster compressed ({@code -c}; qcow2 only)
 */
public record ConvertOptions(
        Optional<String> sourceFormat,
        String targetFormat,
        Map<String, String> targetOptions,
        Optional<BackingReference> backing,
        boolean existingTarget,
        int parallelRequests,
        boolean outOfOrder,
        long sparseBytes,
        boolean forceShare,
        boolean compress) {
    public static final long DEFAULT_SPARSE_BYTES = 4096;
    public static final int MAX_PARALLEL_REQUESTS = 16;

    public ConvertOptions {
        Objects.requireNonNull(sourceFormat, "sourceFormat");
        Objects.requireNonNull(targetFormat, "targetFormat");
        Objects.requireNonNull(backing, "backing");
        targetOptions = Map.copyOf(targetOptions);
        if (parallelRequests < 1 || parallelRequests > MAX_PARALLEL_REQUESTS) {
            throw new IllegalArgumentException(
                    "parallel requests must be 1 to " + MAX_PARALLEL_REQUESTS + ", got " + parallelRequests);
        }
        if (sparseBytes < 0 || (sparseBytes % 512) != 0) {
            throw new IllegalArgumentException("sparse size must be a multiple of 512 bytes, got " + sparseBytes);
        }
    }

    /** Into a new image of {@code targetFormat}, the other options as qemu-img's defaults. */
    public static ConvertOptions to(String targetFormat) {
        return new ConvertOptions(
                Optional.empty(),
                targetFormat,
                Map.of(),
                Optional.empty(),
                false,
                1,
                false,
                DEFAULT_SPARSE_BYTES,
                false,
                false);
    }
}
