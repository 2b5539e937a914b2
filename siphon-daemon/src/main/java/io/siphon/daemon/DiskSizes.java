package io.siphon.daemon;

import io.siphon.api.BlockInfo;
import io.siphon.api.BlockStats;
import io.siphon.block.filter.GuestIoStats;
import io.siphon.domain.DiskDefinition;
import io.siphon.format.Image;
import io.siphon.format.ImageChain;
import io.siphon.format.OpenOptions;
import io.siphon.util.posix.NativeFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** What {@code domblkinfo} and {@code domblkstat} report of an embedded disk. */
final class DiskSizes {
    private DiskSizes() {}

    /** The sizes of a disk whose top is open: the guest's size, and the top file's blocks and length. */
    static BlockInfo of(Image top, Path file) throws IOException {
        return new BlockInfo(top.sizeBytes(), NativeFile.allocatedBytes(file), Files.size(file));
    }

    /** The sizes of a shut-off disk, read from its top as {@code qemu-img info -U} would (shared). */
    static BlockInfo offline(DiskDefinition disk) throws IOException {
        try (Image top = ImageChain.openOne(disk.source(), disk.format(), OpenOptions.FORCE_SHARE)) {
            return of(top, disk.source());
        }
    }

    /** The gate's counts in the API's shape. */
    static BlockStats stats(GuestIoStats.Totals totals) {
        return new BlockStats(
                totals.readRequests(),
                totals.readBytes(),
                totals.writeRequests(),
                totals.writeBytes(),
                totals.flushRequests(),
                totals.readNanos(),
                totals.writeNanos(),
                totals.flushNanos());
    }
}
