package io.siphon.format.qed;

import io.siphon.block.BlockDevice;
import io.siphon.block.BlockDeviceContract;
import io.siphon.format.CreateOptions;
import io.siphon.format.Formats;
import io.siphon.format.ImageChain;
import io.siphon.format.OpenOptions;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/** QED with QEMU's default geometry (64 KiB clusters, 4-cluster tables) under the block device contract. */
class QedImageTest extends BlockDeviceContract {
    private Path file;

    /** Format options for {@code create}; subclasses try other geometries. */
    protected Map<String, String> formatOptions() {
        return Map.of();
    }

    @Override
    protected BlockDevice create(long sizeBytes) throws IOException {
        file = dir.resolve("disk.qed");
        Formats.byName("qed").create(file, new CreateOptions(sizeBytes, Optional.empty(), formatOptions()));
        return reopen();
    }

    @Override
    protected BlockDevice reopen() throws IOException {
        return ImageChain.openOne(file, Optional.empty(), OpenOptions.READ_WRITE);
    }
}
