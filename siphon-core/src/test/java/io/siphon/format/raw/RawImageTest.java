package io.siphon.format.raw;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.siphon.block.Allocation;
import io.siphon.block.BlockDevice;
import io.siphon.block.Extent;
import io.siphon.block.FastZeroUnsupportedException;
import io.siphon.block.RequestFlag;
import io.siphon.format.CreateOptions;
import io.siphon.format.Formats;
import io.siphon.format.Image;
import io.siphon.format.ImageChain;
import io.siphon.format.ImageFormatException;
import io.siphon.format.OpenOptions;
import io.siphon.testing.ImageFormatContract;
import io.siphon.testing.QemuTools;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

class RawImageTest extends ImageFormatContract {
    private static final Pattern QEMU_MAP_ENTRY =
            Pattern.compile("\"start\": (\\d+), \"length\": (\\d+),.*?\"zero\": (true|false), \"data\": (true|false)");

    private Path file;

    @Override
    protected String formatName() {
        return "raw";
    }

    @Override
    protected boolean hasBacking() {
        return false;
    }

    @Override
    protected boolean probes() {
        return false;
    }

    @Override
    protected BlockDevice create(long sizeBytes) throws IOException {
        return createAt(dir.resolve("disk.raw"), sizeBytes);
    }

    private BlockDevice createAt(Path path, long sizeBytes) throws IOException {
        file = path;
        Formats.byName("raw").create(file, CreateOptions.ofSize(sizeBytes));
        return reopen();
    }

    @Override
    protected BlockDevice reopen() throws IOException {
        return ImageChain.openOne(file, Optional.of("raw"), OpenOptions.READ_WRITE);
    }

    /** One run of the map: data or zero, with its guest range. */
    record MapRun(long start, long length, boolean data) {}

    private static void append(List<MapRun> runs, long start, long length, boolean data) {
        if (!runs.isEmpty()) {
            MapRun last = runs.getLast();
            if (last.data() == data && last.start() + last.length() == start) {
                runs.set(runs.size() - 1, new MapRun(last.start(), last.length() + length, data));
                return;
            }
        }
        runs.add(new MapRun(start, length, data));
    }

    private static List<MapRun> siphonMap(BlockDevice device) throws IOException {
        List<MapRun> runs = new ArrayList<>();
        long offset = 0;
        while (offset < device.sizeBytes()) {
            for (Extent extent : device.blockStatus(offset, device.sizeBytes() - offset)) {
                assertEquals(extent.offsetBytes(), extent.hostOffsetBytes(), "raw maps guest to host 1:1");
                assertTrue(extent.allocation().isAllocated(), "a raw image holds every byte: " + extent);
                append(runs, extent.offsetBytes(), extent.lengthBytes(), extent.allocation() == Allocation.DATA);
                offset = extent.endBytes();
            }
        }
        return runs;
    }

    private static List<MapRun> qemuMap(Path image) throws Exception {
        QemuTools.Result map = QemuTools.run("qemu-img", "map", "--output=json", "-f", "raw", image.toString())
                .requireSuccess();
        List<MapRun> runs = new ArrayList<>();
        Matcher entry = QEMU_MAP_ENTRY.matcher(map.stdout());
        while (entry.find()) {
            boolean data = Boolean.parseBoolean(entry.group(4));
            assertTrue(data || Boolean.parseBoolean(entry.group(3)), "raw reads holes as zero: " + entry.group());
            append(runs, Long.parseLong(entry.group(1)), Long.parseLong(entry.group(2)), data);
        }
        return runs;
    }

    @Test
    @Tag("interop")
    void blockStatusAgreesWithQemuImgMap() throws Exception {
        long seed = System.nanoTime();
        System.out.println("RawImageTest.blockStatusAgreesWithQemuImgMap seed " + seed);
        Random random = new Random(seed);
        List<MapRun> ours;
        try (BlockDevice device = create(SIZE)) {
            for (int i = 0; i < 40; i++) {
                long offset = random.nextLong(SIZE - 200_000);
                int length = 1 + random.nextInt(200_000);
                switch (random.nextInt(4)) {
                    case 0 -> device.discard(offset, length);
                    case 1 -> device.writeZeroes(offset, length, Set.of(RequestFlag.MAY_UNMAP));
                    default -> device.write(offset, ByteBuffer.wrap(random(random.nextLong(), length)));
                }
            }
            device.flush();
            ours = siphonMap(device);
        }
        assertEquals(qemuMap(file), ours, "seed " + seed);
        assertTrue(ours.stream().anyMatch(MapRun::data) && ours.stream().anyMatch(run -> !run.data()), "" + ours);
    }

    @Test
    @Tag("interop")
    void blockStatusReadsImagesQemuWrote() throws Exception {
        file = dir.resolve("qemu.raw");
        QemuTools.run("qemu-img", "create", "-f", "raw", file.toString(), "4M").requireSuccess();
        QemuTools.run(
                        "qemu-io",
                        "-f",
                        "raw",
                        "-c",
                        "write -P 1 1M 64k",
                        "-c",
                        "write -P 2 3M 4k",
                        "-c",
                        "write -z -u 1M 4k",
                        file.toString())
                .requireSuccess();
        try (BlockDevice device = ImageChain.openOne(file, Optional.of("raw"), OpenOptions.READ_ONLY)) {
            List<MapRun> ours = siphonMap(device);
            assertEquals(qemuMap(file), ours);
            // qemu-img allocates the first block on create; qemu-io's unmapping zero write left a hole
            assertTrue(ours.contains(new MapRun(4096, 1 << 20, false)), "hole up to 1M + 4k: " + ours);
        }
    }

    @Test
    void discardAndUnmappingZeroesPunchHoles() throws IOException {
        try (BlockDevice device = create(SIZE)) {
            device.write(0, ByteBuffer.wrap(random(7, 1 << 20)));
            device.discard(0, 1 << 18);
            device.writeZeroes(1 << 19, 1 << 18, Set.of(RequestFlag.MAY_UNMAP));
            assertEquals(
                    List.of(
                            new MapRun(0, 1 << 18, false),
                            new MapRun(1 << 18, 1 << 18, true),
                            new MapRun(1 << 19, 1 << 18, false),
                            new MapRun(3 << 18, 1 << 18, true),
                            new MapRun(1 << 20, SIZE - (1 << 20), false)),
                    siphonMap(device));
            assertArrayEquals(new byte[1 << 18], read(device, 1 << 19, 1 << 18));
            long actual = ((Image) device).info().actualSizeBytes().orElseThrow();
            assertTrue(actual <= 1 << 19, "half of 1 MiB remains allocated, not " + actual);
        }
    }

    @Test
    void fastZeroesKeepTheRangeAllocated() throws IOException {
        try (BlockDevice device = create(SIZE)) {
            byte[] data = random(8, 1 << 20);
            device.write(0, ByteBuffer.wrap(data));
            // ext4, xfs and btrfs zero ranges; a file system that cannot must say so, not write slowly
            try {
                device.writeZeroes(4096, 100_000, Set.of(RequestFlag.NO_FALLBACK));
            } catch (FastZeroUnsupportedException e) {
                assumeTrue(false, "this file system cannot zero ranges: " + e.getMessage());
            }
            java.util.Arrays.fill(data, 4096, 104_096, (byte) 0);
            assertArrayEquals(data, read(device, 0, 1 << 20));
            assertEquals(
                    Allocation.DATA, device.blockStatus(0, 1 << 20).getFirst().allocation());
        }
    }

    @Test
    void fastZeroesWithoutSupportFailAndChangeNothing() throws IOException {
        Optional<Path> tmpfs = writableTmpfs();
        assumeTrue(tmpfs.isPresent(), "no writable tmpfs mounted");
        Path scratch = Files.createTempDirectory(tmpfs.get(), "siphon-raw-test");
        try (BlockDevice device = createAt(scratch.resolve("tmpfs.raw"), SIZE)) {
            byte[] data = random(9, 1 << 16);
            device.write(0, ByteBuffer.wrap(data));
            // tmpfs punches holes but has no FALLOC_FL_ZERO_RANGE
            assertThrows(
                    FastZeroUnsupportedException.class,
                    () -> device.writeZeroes(0, 4096, Set.of(RequestFlag.NO_FALLBACK)));
            assertArrayEquals(data, read(device, 0, 1 << 16));
            device.writeZeroes(0, 4096, Set.of(RequestFlag.NO_FALLBACK, RequestFlag.MAY_UNMAP));
            device.writeZeroes(8192, 4096, Set.of());
            java.util.Arrays.fill(data, 0, 4096, (byte) 0);
            java.util.Arrays.fill(data, 8192, 12_288, (byte) 0);
            assertArrayEquals(data, read(device, 0, 1 << 16));
        } finally {
            Files.deleteIfExists(file);
            Files.delete(scratch);
        }
    }

    /** A tmpfs mount this process may write to, found in the mount table. */
    private static Optional<Path> writableTmpfs() throws IOException {
        Path mounts = Path.of("/proc/self/mounts");
        if (!Files.isReadable(mounts)) {
            return Optional.empty();
        }
        for (String line : Files.readAllLines(mounts)) {
            String[] fields = line.split(" ");
            if (fields.length > 3 && fields[2].equals("tmpfs") && fields[3].startsWith("rw")) {
                Path mountPoint = Path.of(fields[1]);
                if (Files.isDirectory(mountPoint) && Files.isWritable(mountPoint)) {
                    return Optional.of(mountPoint);
                }
            }
        }
        return Optional.empty();
    }

    @Test
    @Tag("interop")
    void infoShowsTheActualSizeQemuImgShows() throws Exception {
        try (BlockDevice device = create(SIZE)) {
            device.write(1 << 20, ByteBuffer.wrap(random(10, 300_000)));
            device.flush();
            long ours = ((Image) device).info().actualSizeBytes().orElseThrow();
            QemuTools.Result info = QemuTools.run(
                            "qemu-img", "info", "-U", "--output=json", "-f", "raw", file.toString())
                    .requireSuccess();
            Matcher actual = Pattern.compile("\"actual-size\": (\\d+)").matcher(info.stdout());
            assertTrue(actual.find(), info.toString());
            assertEquals(Long.parseLong(actual.group(1)), ours);
            assertTrue(ours >= 300_000 && ours < SIZE, "a sparse file: " + ours);
        }
    }

    @Test
    void aReadOnlyImageRefusesHolePunching() throws IOException {
        create(SIZE).close();
        try (BlockDevice device = ImageChain.openOne(file, Optional.of("raw"), OpenOptions.READ_ONLY)) {
            ImageFormatException e = assertThrows(ImageFormatException.class, () -> device.discard(0, 4096));
            assertEquals(ImageFormatException.Reason.REFUSED, e.reason());
        }
    }
}
