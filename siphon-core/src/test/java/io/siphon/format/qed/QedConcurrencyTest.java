package io.siphon.format.qed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.block.BlockDevice;
import io.siphon.format.BackingReference;
import io.siphon.format.CreateOptions;
import io.siphon.format.Formats;
import io.siphon.format.ImageChain;
import io.siphon.format.OpenOptions;
import io.siphon.testing.QemuTools;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Writers that share clusters (each owns every eighth 512-byte sector), over a raw backing, with
 * flushes and block-status queries running beside them: every write lands, the copied backing
 * data survives around it, and qemu-img finds the image consistent and equal to the model.
 */
class QedConcurrencyTest {
    private static final int SIZE = 8 << 20;
    private static final int SECTOR = 512;
    private static final int WRITERS = 8;

    @TempDir
    Path dir;

    @Test
    void writersSharingClustersWithFlushesMatchTheModel() throws Exception {
        long seed = GuestWorkload.newSeed("writersSharingClustersWithFlushesMatchTheModel");
        byte[] model = new byte[SIZE];
        new Random(seed).nextBytes(model);
        Files.write(dir.resolve("base.raw"), model);
        Path image = dir.resolve("top.qed");
        Formats.byName("qed")
                .create(
                        image,
                        new CreateOptions(
                                SIZE,
                                Optional.of(BackingReference.of("base.raw", "raw")),
                                Map.of("cluster_size", "4k")));
        try (ImageChain chain = ImageChain.open(image, Optional.empty(), OpenOptions.READ_WRITE)) {
            BlockDevice top = chain.top();
            AtomicBoolean writing = new AtomicBoolean(true);
            List<Future<?>> tasks = new ArrayList<>();
            try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
                for (int w = 0; w < WRITERS; w++) {
                    int writer = w;
                    tasks.add(pool.submit(() -> {
                        Random random = new Random(seed + writer);
                        for (int i = 0; i < 400; i++) {
                            int sector = random.nextInt(SIZE / SECTOR / WRITERS) * WRITERS + writer;
                            byte[] data = new byte[SECTOR];
                            random.nextBytes(data);
                            if (random.nextInt(10) == 0) {
                                top.writeZeroes((long) sector * SECTOR, SECTOR, Set.of());
                                Arrays.fill(data, (byte) 0);
                            } else {
                                top.write((long) sector * SECTOR, ByteBuffer.wrap(data));
                            }
                            synchronized (model) {
                                System.arraycopy(data, 0, model, sector * SECTOR, SECTOR);
                            }
                        }
                        return null;
                    }));
                }
                Future<?> flusher = pool.submit(() -> {
                    while (writing.get()) {
                        top.flush();
                        top.blockStatus(0, SIZE);
                        Thread.sleep(2);
                    }
                    return null;
                });
                for (Future<?> task : tasks) {
                    task.get();
                }
                writing.set(false);
                flusher.get();
            }
            assertArrayEquals(model, GuestWorkload.readAll(top));
        }
        String check = QemuTools.ok("qemu-img", "check", image.toString());
        assertTrue(check.contains("No errors"), check);
        Path raw = Files.write(dir.resolve("model.raw"), model);
        QemuTools.ok("qemu-img", "compare", "-f", "raw", raw.toString(), image.toString());
    }
}
