package io.siphon.nbd.client;

import io.siphon.block.BlockDevice;
import io.siphon.format.ImageChain;
import io.siphon.format.OpenOptions;
import io.siphon.nbd.server.NbdServer;
import io.siphon.testing.BlockDeviceContract;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;

/** The block device contract, through Siphon's client and server, over a raw file. */
class NbdBlockDeviceContractTest extends BlockDeviceContract {
    private ImageChain chain;
    private NbdServer server;

    @Override
    protected BlockDevice create(long sizeBytes) throws IOException {
        Path file = dir.resolve("disk.raw");
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.setLength(sizeBytes);
        }
        chain = ImageChain.open(file, Optional.of("raw"), OpenOptions.READ_WRITE);
        server = NbdServer.builder()
                .export("disk", chain.top(), false)
                .listenUnix(dir.resolve("nbd.sock"))
                .build()
                .start();
        return reopen();
    }

    @Override
    protected BlockDevice reopen() throws IOException {
        return NbdBlockDevice.of(NbdClient.connect(server.uri("disk")));
    }

    @AfterEach
    void stop() throws IOException {
        if (server != null) {
            server.close();
        }
        if (chain != null) {
            chain.close();
        }
    }
}
