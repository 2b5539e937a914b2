package io.siphon.format;

import java.nio.file.Path;
import java.util.List;
import java.util.OptionalLong;

/**
 * The result of a consistency check, with qemu-img check's counts.
 *
 * @param problems one line per problem found or fixed, naming the structure and offset
 */
public record CheckReport(
        String format,
        Path path,
        long corruptions,
        long leaks,
        long corruptionsFixed,
        long leaksFixed,
        long checkErrors,
        OptionalLong imageEndOffsetBytes,
        long totalClusters,
        long allocatedClusters,
        long fragmentedClusters,
        long compressedClusters,
        List<String> problems) {
    public CheckReport {
        problems = List.copyOf(problems);
    }

    /** qemu-img check's exit status: 0 clean, 1 check failed, 2 corruptions, 3 leaks only. */
    public int exitStatus() {
        if (checkErrors > 0) {
            return 1;
        }
        if (corruptions > 0) {
            return 2;
        }
        return leaks > 0 ? 3 : 0;
    }
}
