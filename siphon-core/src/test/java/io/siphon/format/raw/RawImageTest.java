package io.siphon.format.raw;

import io.siphon.block.BlockDevice;
import io.siphon.block.BlockDeviceContract;
import io.siphon.format.CreateOptions;
import io.siphon.format.Formats;
import io.siphon.format.ImageChain;
import io.siphon.format.OpenOptions;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;

class RawImageTest extends BlockDeviceContract {
    private Path file;

    @Override
    protected BlockDevice create(long sizeBytes) throws IOException {
        file = dir.resolve("disk.raw");
        Formats.byName("raw").create(file, CreateOptions.ofSize(sizeBytes));
        return reopen();
    }

    @Override
    protected BlockDevice reopen() throws IOException {
        return ImageChain.openOne(file, Optional.of("raw"), OpenOptions.READ_WRITE);
    }
}
