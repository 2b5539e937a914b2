package io.siphon.bench.micro;

import io.siphon.block.Extent;
import io.siphon.format.CreateOptions;
import io.siphon.format.Formats;
import io.siphon.format.Image;
import io.siphon.format.ImageChain;
import io.siphon.format.OpenOptions;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.TearDown;

/**
 * A qcow2 image's cluster lookup (L1, then the cached L2 table) through the public {@code Image}
 * face, on a 1 GiB image whose first 256 MiB have every 64 KiB cluster allocated: block status of
 * one cluster (what a pull asks per chunk), of the whole 256 MiB (4096 L2 entries merged into
 * extents), and a 4 KiB read of an allocated cluster (lookup plus a page-cache read).
 */
public class Qcow2MappingBench extends MicroBenchmark {
    private static final long CLUSTER = 64 << 10;
    private static final long DATA_BYTES = 256L << 20;
    private static final int PICKS = 4096;

    private Path dir;
    private Image image;
    private final long[] offsets = new long[PICKS];
    private final ByteBuffer buffer = ByteBuffer.allocateDirect(4096);
    private int next;

    @Setup
    public void setUp() throws IOException {
        dir = Files.createTempDirectory("siphon-qcow2-bench");
        Path path = dir.resolve("mapped.qcow2");
        Formats.byName("qcow2").create(path, CreateOptions.ofSize(1L << 30));
        image = ImageChain.openOne(path, Optional.of("qcow2"), OpenOptions.READ_WRITE);
        ByteBuffer data = ByteBuffer.allocate(4096);
        for (long offset = 0; offset < DATA_BYTES; offset += CLUSTER) {
            image.write(offset, data.clear());
        }
        image.flush();
        Random random = new Random(1);
        for (int i = 0; i < PICKS; i++) {
            offsets[i] = random.nextLong(DATA_BYTES / CLUSTER) * CLUSTER;
        }
    }

    @TearDown
    public void tearDown() throws IOException {
        image.close();
        try (var files = Files.list(dir)) {
            for (Path file : files.toList()) {
                Files.delete(file);
            }
        }
        Files.delete(dir);
    }

    private long nextOffset() {
        next = (next + 1) % PICKS;
        return offsets[next];
    }

    @Benchmark
    public List<Extent> blockStatusOfOneCluster() throws IOException {
        return image.blockStatus(nextOffset(), CLUSTER);
    }

    @Benchmark
    public List<Extent> blockStatusOf256MiB() throws IOException {
        return image.blockStatus(0, DATA_BYTES);
    }

    @Benchmark
    public ByteBuffer read4KiB() throws IOException {
        image.read(nextOffset(), buffer.clear());
        return buffer;
    }
}
