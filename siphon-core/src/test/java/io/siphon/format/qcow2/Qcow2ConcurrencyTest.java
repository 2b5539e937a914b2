package io.siphon.format.qcow2;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import io.siphon.block.RequestFlag;
import io.siphon.format.BackingReference;
import io.siphon.format.CreateOptions;
import io.siphon.format.Formats;
import io.siphon.format.Image;
import io.siphon.format.ImageChain;
import io.siphon.format.OpenOptions;
import io.siphon.testing.QemuTools;
import java.nio.ByteBuffer;
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
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Many threads on one image over a backing file: writers own unaligned slots that share clusters
 * with their neighbours (so copy-on-write of one cluster races writes to the rest of it), readers
 * read what only the backing holds. Every thread checks what it reads.
 */
class Qcow2ConcurrencyTest {
    private static final int SLOT = 5000;
    private static final int WRITERS = 8;
    private static final int SLOTS_PER_WRITER = 40;
    private static final int ROUNDS = Integer.getInteger("siphon.qcow2.concurrencyRounds", 300);

    @TempDir
    Path dir;

    /** With extended L2 entries (16 KiB clusters of 512-byte subclusters), subcluster fills race too. */
    @ParameterizedTest(name = "{0}, discards of {1} bytes")
    @CsvSource(
            delimiter = ';',
            value = {"cluster_size=4k; 4096", "cluster_size=16k,extended_l2=on; 512"})
    void concurrentWritersAndReadersSeeTheirOwnData(String topOptions, int discardUnit) throws Exception {
        long seed = System.nanoTime();
        System.out.println("seed " + seed + " " + topOptions);
        long size = 4L << 20;
        Path base = dir.resolve("base.qcow2");
        Formats.byName("qcow2").create(base, new CreateOptions(size, Optional.empty(), Map.of()));
        byte[] baseContent = new byte[(int) size];
        new Random(seed).nextBytes(baseContent);
        try (Image opened = ImageChain.openOne(base, Optional.empty(), OpenOptions.READ_WRITE)) {
            opened.write(0, ByteBuffer.wrap(baseContent));
        }
        Path top = dir.resolve("top.qcow2");
        Formats.byName("qcow2")
                .create(
                        top,
                        new CreateOptions(
                                CreateOptions.SIZE_OF_BACKING,
                                Optional.of(BackingReference.of("base.qcow2", "qcow2")),
                                options(topOptions)));
        long writerArea = (long) WRITERS * SLOTS_PER_WRITER * SLOT;
        try (ImageChain chain = ImageChain.open(top, Optional.empty(), OpenOptions.READ_WRITE)) {
            Image image = chain.top();
            List<Future<?>> done = new ArrayList<>();
            try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
                for (int w = 0; w < WRITERS; w++) {
                    int writer = w;
                    done.add(pool.submit(() -> {
                        write(image, baseContent, writer, new Random(seed + writer), discardUnit);
                        return null;
                    }));
                }
                for (int r = 0; r < 4; r++) {
                    Random random = new Random(seed - r - 1);
                    done.add(pool.submit(() -> {
                        for (int i = 0; i < ROUNDS; i++) {
                            long offset = writerArea + random.nextLong(size - writerArea - 70_000);
                            ByteBuffer got = ByteBuffer.allocate(1 + random.nextInt(70_000));
                            image.read(offset, got);
                            byte[] want = Arrays.copyOfRange(baseContent, (int) offset, (int) offset + got.capacity());
                            assertArrayEquals(want, got.array(), "backing data at " + offset + " seed " + seed);
                        }
                        return null;
                    }));
                }
                for (Future<?> f : done) {
                    f.get();
                }
            }
        }
        QemuTools.assertCheckClean(top);
    }

    private static Map<String, String> options(String list) {
        Map<String, String> options = new java.util.HashMap<>();
        for (String option : list.split(",")) {
            options.put(option.substring(0, option.indexOf('=')), option.substring(option.indexOf('=') + 1));
        }
        return options;
    }

    /** {@code discardUnit}: what a discard drops whole (a cluster, or a subcluster). */
    private static void write(Image image, byte[] baseContent, int writer, Random random, int discardUnit)
            throws Exception {
        byte[][] expected = new byte[SLOTS_PER_WRITER][];
        for (int s = 0; s < SLOTS_PER_WRITER; s++) {
            long offset = slotOffset(writer, s);
            expected[s] = Arrays.copyOfRange(baseContent, (int) offset, (int) offset + SLOT);
        }
        for (int i = 0; i < ROUNDS; i++) {
            int s = random.nextInt(SLOTS_PER_WRITER);
            long offset = slotOffset(writer, s);
            switch (random.nextInt(5)) {
                case 0, 1 -> {
                    byte[] data = new byte[SLOT];
                    random.nextBytes(data);
                    image.write(offset, ByteBuffer.wrap(data));
                    expected[s] = data;
                }
                case 2 -> {
                    image.writeZeroes(offset + 100, SLOT - 200, Set.of(RequestFlag.MAY_UNMAP));
                    Arrays.fill(expected[s], 100, SLOT - 100, (byte) 0);
                }
                case 3 -> {
                    image.discard(offset, SLOT);
                    long start = (offset + discardUnit - 1) / discardUnit * discardUnit;
                    long end = (offset + SLOT) / discardUnit * discardUnit;
                    for (long at = start; at < end; at++) {
                        expected[s][(int) (at - offset)] = 0;
                    }
                }
                default -> {
                    ByteBuffer got = ByteBuffer.allocate(SLOT);
                    image.read(offset, got);
                    assertArrayEquals(expected[s], got.array(), "writer " + writer + " slot " + s);
                }
            }
            if (i % 97 == 0) {
                image.flush();
            }
        }
        for (int s = 0; s < SLOTS_PER_WRITER; s++) {
            ByteBuffer got = ByteBuffer.allocate(SLOT);
            image.read(slotOffset(writer, s), got);
            assertArrayEquals(expected[s], got.array(), "writer " + writer + " slot " + s + " at the end");
        }
    }

    /** Slots interleave writers, so neighbouring slots (sharing a cluster) belong to different threads. */
    private static long slotOffset(int writer, int slot) {
        return ((long) slot * WRITERS + writer) * SLOT;
    }
}
