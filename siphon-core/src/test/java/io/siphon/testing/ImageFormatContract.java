package io.siphon.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.siphon.block.Allocation;
import io.siphon.block.BlockDevice;
import io.siphon.block.filter.RequestGate;
import io.siphon.format.BackingReference;
import io.siphon.format.CreateOptions;
import io.siphon.format.Formats;
import io.siphon.format.Image;
import io.siphon.format.ImageChain;
import io.siphon.format.ImageFormatException;
import io.siphon.format.ImageFormatException.Reason;
import io.siphon.format.OpenOptions;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * What every image format must do beyond the block device contract: create, probe, open read-only,
 * keep its size, and (when it has backing files) read through, write over and relink a backing.
 * QEMU's tools are the oracle for what is on disk. A format plugs in with {@link #formatName()}.
 */
public abstract class ImageFormatContract extends BlockDeviceContract {
    private Path file;

    /** The format under test, as {@code Formats.byName} knows it. */
    protected abstract String formatName();

    /** Format options for every image the contract creates; variants try other geometries. */
    protected Map<String, String> formatOptions() {
        return Map.of();
    }

    /** Whether images of this format record a backing file (raw does not). */
    protected boolean hasBacking() {
        return true;
    }

    /** Whether {@code Formats.probe} recognises the format by its magic (raw is only ever named). */
    protected boolean probes() {
        return true;
    }

    /** Whether QEMU opens images of this geometry, so that the contract can use it as the oracle. */
    protected boolean qemuOpens() {
        return true;
    }

    @Override
    protected BlockDevice create(long sizeBytes) throws IOException {
        file = createImage("disk", sizeBytes, Optional.empty());
        return reopen();
    }

    @Override
    protected BlockDevice reopen() throws IOException {
        return ImageChain.openOne(file, Optional.of(formatName()), OpenOptions.READ_WRITE);
    }

    /** Creates {@code name.format} in the test directory, sized or taking the backing's size. */
    protected Path createImage(String name, long sizeBytes, Optional<BackingReference> backing) throws IOException {
        Path path = dir.resolve(name + "." + formatName());
        Formats.byName(formatName()).create(path, new CreateOptions(sizeBytes, backing, formatOptions()));
        return path;
    }

    @Test
    void aCreatedImageShowsItsFormatAndSizeAsQemuImgDoes() throws Exception {
        Path path = createImage("made", SIZE, Optional.empty());
        try (Image image = ImageChain.openOne(path, Optional.of(formatName()), OpenOptions.READ_ONLY)) {
            assertEquals(formatName(), image.formatName());
            assertEquals(SIZE, image.sizeBytes());
            assertEquals(Optional.empty(), image.backingReference());
            assertEquals(Optional.empty(), image.backing());
            assertEquals(SIZE, image.info().virtualSizeBytes());
        }
        if (qemuOpens()) {
            String qemu = QemuTools.infoJson(path);
            assertEquals(formatName(), QemuTools.jsonString(qemu, "format"), qemu);
            assertEquals(SIZE, QemuTools.jsonLong(qemu, "virtual-size"), qemu);
            assertNull(QemuTools.jsonString(qemu, "backing-filename"), qemu);
        }
    }

    @Test
    void probingFindsTheFormatByItsMagicAndNeverGuessesRaw() throws Exception {
        Path path = createImage("probed", SIZE, Optional.empty());
        if (probes()) {
            assertEquals(formatName(), Formats.probe(path).name());
        } else {
            ImageFormatException e = assertThrows(ImageFormatException.class, () -> Formats.probe(path));
            assertEquals(Reason.UNKNOWN_FORMAT, e.reason());
        }
    }

    @Test
    void aReadOnlyImageRefusesWritesAndRelinking() throws Exception {
        Path path = createImage("ro", SIZE, Optional.empty());
        try (Image image = ImageChain.openOne(path, Optional.of(formatName()), OpenOptions.READ_ONLY)) {
            assertTrue(image.isReadOnly());
            ImageFormatException e =
                    assertThrows(ImageFormatException.class, () -> image.write(0, ByteBuffer.allocate(1)));
            assertEquals(Reason.REFUSED, e.reason());
            assertThrows(
                    ImageFormatException.class,
                    () -> image.changeBackingReference(Optional.of(BackingReference.of("other.raw", "raw"))));
        }
        try (Image image = ImageChain.openOne(path, Optional.of(formatName()), OpenOptions.READ_ONLY)) {
            assertArrayEquals(new byte[4096], read(image, 0, 4096), "nothing written");
        }
    }

    @Test
    void writesNeverChangeTheVirtualSize() throws Exception {
        Path path = createImage("sized", SIZE, Optional.empty());
        try (Image image = ImageChain.openOne(path, Optional.of(formatName()), OpenOptions.READ_WRITE)) {
            image.write(SIZE - 1, ByteBuffer.wrap(new byte[] {7}));
            // Formats trust their callers' ranges; the disk's front node is where a request is checked.
            BlockDevice front = new RequestGate(image, 512, false);
            assertThrows(IllegalArgumentException.class, () -> front.write(SIZE, ByteBuffer.wrap(new byte[] {7})));
            image.flush();
            assertEquals(SIZE, image.sizeBytes());
        }
        try (Image image = ImageChain.openOne(path, Optional.of(formatName()), OpenOptions.READ_WRITE)) {
            assertEquals(SIZE, image.sizeBytes());
            assertArrayEquals(new byte[] {7}, read(image, SIZE - 1, 1));
        }
        if (qemuOpens()) {
            assertEquals(SIZE, QemuTools.jsonLong(QemuTools.infoJson(path), "virtual-size"));
        }
    }

    @Test
    void anOverlayReadsThroughItsBackingAndWritesOnlyItself() throws Exception {
        assumeTrue(hasBacking(), formatName() + " has no backing files");
        Path base = dir.resolve("base.raw");
        byte[] baseBytes = random(11, (int) SIZE);
        Files.write(base, baseBytes);
        Path top = createImage(
                "overlay", CreateOptions.SIZE_OF_BACKING, Optional.of(BackingReference.of("base.raw", "raw")));
        byte[] written = random(12, 70_000);
        try (ImageChain chain = ImageChain.open(top, Optional.of(formatName()), OpenOptions.READ_WRITE)) {
            Image image = chain.top();
            assertEquals(SIZE, image.sizeBytes(), "size taken from the backing file");
            assertEquals(Optional.of(BackingReference.of("base.raw", "raw")), image.backingReference());
            assertEquals(
                    Allocation.UNALLOCATED,
                    image.blockStatus(0, SIZE).getFirst().allocation());
            assertArrayEquals(baseBytes, read(image, 0, (int) SIZE), "an empty overlay reads as its backing");
            image.write(100_000, ByteBuffer.wrap(written));
            image.flush();
        }
        byte[] expected = baseBytes.clone();
        System.arraycopy(written, 0, expected, 100_000, written.length);
        assertArrayEquals(baseBytes, Files.readAllBytes(base), "the backing is never written");
        try (ImageChain chain = ImageChain.open(top, Optional.of(formatName()), OpenOptions.READ_ONLY)) {
            assertArrayEquals(
                    expected, read(chain.top(), 0, (int) SIZE), "reopened, the overlay reads over its backing");
        }
        if (qemuOpens()) {
            assertArrayEquals(expected, QemuTools.rawContent(top, dir), "QEMU reads the overlay over its backing");
            assertEquals("base.raw", QemuTools.backingName(top));
        }
    }

    @Test
    void readsPastTheEndOfASmallerBackingAreZero() throws Exception {
        assumeTrue(hasBacking(), formatName() + " has no backing files");
        Files.write(dir.resolve("small.raw"), filled(4096, 0x42));
        Path top = createImage("big", 1 << 20, Optional.of(BackingReference.of("small.raw", "raw")));
        try (ImageChain chain = ImageChain.open(top, Optional.empty(), OpenOptions.READ_WRITE)) {
            byte[] expected = new byte[8192];
            Arrays.fill(expected, 0, 4096, (byte) 0x42);
            assertArrayEquals(expected, read(chain.top(), 0, 8192));
            chain.top().write(8000, ByteBuffer.wrap(new byte[] {5}));
            expected[8000] = 5;
            assertArrayEquals(expected, read(chain.top(), 0, 8192));
        }
    }

    @Test
    void aChangedBackingLinkSurvivesReopenAndIsWhatQemuSees() throws Exception {
        assumeTrue(hasBacking(), formatName() + " has no backing files");
        Files.write(dir.resolve("a.raw"), filled((int) SIZE, 0x11));
        Files.write(dir.resolve("b.raw"), filled((int) SIZE, 0x22));
        Path top = createImage(
                "relinked", CreateOptions.SIZE_OF_BACKING, Optional.of(BackingReference.of("a.raw", "raw")));
        try (Image image = ImageChain.openOne(top, Optional.of(formatName()), OpenOptions.READ_WRITE)) {
            image.changeBackingReference(Optional.of(BackingReference.of("b.raw", "raw")));
        }
        if (qemuOpens()) {
            assertEquals("b.raw", QemuTools.backingName(top));
        }
        try (ImageChain chain = ImageChain.open(top, Optional.empty(), OpenOptions.READ_WRITE)) {
            assertEquals(
                    Optional.of(BackingReference.of("b.raw", "raw")),
                    chain.top().backingReference());
            assertArrayEquals(filled(4096, 0x22), read(chain.top(), 0, 4096));
            chain.top().changeBackingReference(Optional.empty());
        }
        try (Image image = ImageChain.openOne(top, Optional.of(formatName()), OpenOptions.READ_WRITE)) {
            assertEquals(Optional.empty(), image.backingReference());
            assertNotEquals(0x22, read(image, 0, 1)[0], "unlinked: the former backing's data is gone");
        }
        if (qemuOpens()) {
            assertNull(QemuTools.backingName(top));
            QemuTools.assertCheckClean(top);
        }
    }

    private static byte[] filled(int length, int value) {
        byte[] bytes = new byte[length];
        Arrays.fill(bytes, (byte) value);
        return bytes;
    }
}
