package io.siphon.format;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.testing.QemuTools;
import io.siphon.testing.QemuTools.QemuIoSession;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** QEMU-compatible image locks, checked both ways against real qemu-img and qemu-io. */
@Tag("interop")
class ImageLockTest {
    private static final String NOT_SHARED_WRITE = "Failed to get shared \"write\" lock";
    private static final String WRITE = "Failed to get \"write\" lock";

    @TempDir
    Path dir;

    private Path qemuImage(String format, String name) throws Exception {
        Path image = dir.resolve(name);
        QemuTools.run("qemu-img", "create", "-f", format, image.toString(), "1M")
                .requireSuccess();
        return image;
    }

    private static ImageFormatException assertLocked(Path image, OpenOptions options, String expected) {
        ImageFormatException e = assertThrows(
                ImageFormatException.class, () -> ImageFile.open(image, options).close());
        assertEquals(ImageFormatException.Reason.LOCKED, e.reason());
        assertEquals(image, e.file());
        assertEquals("lock", e.field());
        assertEquals(image + ": lock: " + expected + ": is another process using the image?", e.getMessage());
        return e;
    }

    @Test
    void qemuCannotWriteOrReadWithoutForceShareWhileSiphonWrites() throws Exception {
        // qcow2, because qemu-img refuses other writers of a qcow2 file's metadata even when only
        // reading; the lock bytes do not depend on the format Siphon reads the file as
        Path image = qemuImage("qcow2", "held.qcow2");
        try (ImageFile held = ImageFile.open(image, OpenOptions.READ_WRITE)) {
            QemuTools.Result info = QemuTools.run("qemu-img", "info", image.toString());
            assertNotEquals(0, info.exitCode(), info.toString());
            assertTrue(info.stderr().contains(NOT_SHARED_WRITE), info.toString());

            QemuTools.Result write = QemuTools.run("qemu-io", "-c", "write 0 4k", image.toString());
            assertNotEquals(0, write.exitCode(), write.toString());
            assertTrue(write.stderr().contains(WRITE), write.toString());

            QemuTools.Result forced = QemuTools.run("qemu-img", "info", "-U", image.toString());
            assertEquals(0, forced.exitCode(), forced.toString());
            assertTrue(forced.stdout().contains("file format: qcow2"), forced.toString());
        }
        QemuTools.run("qemu-io", "-c", "write 0 4k", image.toString()).requireSuccess();
    }

    @Test
    void qemuCannotWriteARawImageSiphonWrites() throws Exception {
        Path image = qemuImage("raw", "held.raw");
        try (Image held = ImageChain.openOne(image, Optional.of("raw"), OpenOptions.READ_WRITE)) {
            QemuTools.Result write = QemuTools.run("qemu-io", "-f", "raw", "-c", "write 0 4k", image.toString());
            assertNotEquals(0, write.exitCode(), write.toString());
            assertTrue(write.stderr().contains(WRITE), write.toString());
            QemuTools.run("qemu-img", "info", "-U", "-f", "raw", image.toString())
                    .requireSuccess();
        }
    }

    @Test
    void siphonCannotOpenAnImageQemuIoWrites() throws Exception {
        Path image = qemuImage("raw", "qemu.raw");
        try (QemuIoSession qemu = new QemuIoSession("raw", image)) {
            assertLocked(image, OpenOptions.READ_WRITE, NOT_SHARED_WRITE);
            assertLocked(image, OpenOptions.READ_ONLY, NOT_SHARED_WRITE);
            assertLocked(image, OpenOptions.BACKING, NOT_SHARED_WRITE);
            ImageFormatException e = assertThrows(
                    ImageFormatException.class,
                    () -> ImageChain.open(image, Optional.of("raw"), OpenOptions.READ_WRITE));
            assertEquals(ImageFormatException.Reason.LOCKED, e.reason());
            try (Image shared = ImageChain.openOne(image, Optional.of("raw"), OpenOptions.FORCE_SHARE)) {
                ByteBuffer head = ByteBuffer.allocate(4096);
                shared.read(0, head);
                byte[] expected = new byte[4096];
                Arrays.fill(expected, (byte) 0x5a);
                assertArrayEquals(expected, head.array(), "force-share reads what qemu-io wrote");
            }
        }
        ImageFile.open(image, OpenOptions.READ_WRITE).close();
    }

    @Test
    void siphonCannotOpenAQcow2ImageQemuIoWrites() throws Exception {
        Path image = qemuImage("qcow2", "qemu.qcow2");
        try (QemuIoSession qemu = new QemuIoSession("qcow2", image)) {
            // qemu-io refuses to share writes of a qcow2 file, so Siphon's writer is refused first for
            // the write permission it wants, as qemu-img would be
            assertLocked(image, OpenOptions.READ_WRITE, WRITE);
            assertLocked(image, OpenOptions.READ_ONLY, NOT_SHARED_WRITE);
            ImageFile.open(image, OpenOptions.FORCE_SHARE).close();
        }
    }

    @Test
    void aBackingImageKeepsQemuFromWritingItButNotFromReadingIt() throws Exception {
        Path template = qemuImage("raw", "template.raw");
        try (Image backing = ImageChain.openOne(template, Optional.of("raw"), OpenOptions.BACKING);
                Image second = ImageChain.openOne(template, Optional.of("raw"), OpenOptions.BACKING)) {
            QemuTools.Result write = QemuTools.run("qemu-io", "-f", "raw", "-c", "write 0 4k", template.toString());
            assertNotEquals(0, write.exitCode(), write.toString());
            assertTrue(write.stderr().contains(WRITE), write.toString());
            QemuTools.run("qemu-img", "info", "-f", "raw", template.toString()).requireSuccess();
            QemuTools.run("qemu-io", "-r", "-f", "raw", "-c", "read 0 4k", template.toString())
                    .requireSuccess();
            assertLocked(template, OpenOptions.READ_WRITE, WRITE);
        }
    }

    @Test
    void aChainKeepsQemuFromWritingTheTemplate() throws Exception {
        Path template = qemuImage("raw", "template.raw");
        Path clone = dir.resolve("clone.qcow2");
        QemuTools.run("qemu-img", "create", "-f", "qcow2", "-b", "template.raw", "-F", "raw", clone.toString())
                .requireSuccess();
        try (ImageChain chain = ImageChain.open(clone, Optional.empty(), OpenOptions.READ_WRITE)) {
            assertEquals(2, chain.images().size());
            QemuTools.Result write = QemuTools.run("qemu-io", "-f", "raw", "-c", "write 0 4k", template.toString());
            assertNotEquals(0, write.exitCode(), write.toString());
            assertTrue(write.stderr().contains(WRITE), write.toString());
            QemuTools.Result info = QemuTools.run("qemu-img", "info", clone.toString());
            assertTrue(info.stderr().contains(NOT_SHARED_WRITE), info.toString());
            // a second clone of the same template may read it at the same time
            Path sibling = dir.resolve("sibling.qcow2");
            QemuTools.run("qemu-img", "create", "-f", "qcow2", "-b", "template.raw", "-F", "raw", sibling.toString())
                    .requireSuccess();
            QemuTools.run("qemu-io", "-c", "write 0 4k", sibling.toString()).requireSuccess();
        }
        QemuTools.run("qemu-io", "-f", "raw", "-c", "write 0 4k", template.toString())
                .requireSuccess();
    }

    @Test
    void siphonOpenersOfOneFileConflictAsQemuOnesDo() throws Exception {
        Path image = qemuImage("raw", "twice.raw");
        try (ImageFile writer = ImageFile.open(image, OpenOptions.READ_WRITE)) {
            assertLocked(image, OpenOptions.READ_WRITE, WRITE);
            assertLocked(image, OpenOptions.READ_ONLY, NOT_SHARED_WRITE);
            ImageFile.open(image, OpenOptions.FORCE_SHARE).close();
        }
        try (ImageFile reader = ImageFile.open(image, OpenOptions.READ_ONLY);
                ImageFile otherReader = ImageFile.open(image, OpenOptions.READ_ONLY)) {
            assertLocked(image, OpenOptions.READ_WRITE, WRITE);
        }
        ImageFile.open(image, OpenOptions.READ_WRITE).close();
    }

    @Test
    void aFailedOpenLeavesNoLockBehind() throws Exception {
        Path image = qemuImage("raw", "failed.raw");
        try (ImageFile reader = ImageFile.open(image, OpenOptions.READ_ONLY)) {
            assertLocked(image, OpenOptions.READ_WRITE, WRITE);
        }
        // had the refused writer's bytes stayed, qemu-io could not write now
        QemuTools.run("qemu-io", "-f", "raw", "-c", "write 0 4k", image.toString())
                .requireSuccess();
    }

    @Test
    void dataAndLocksStayOnTheFileOpenedWhenThePathIsReplaced() throws Exception {
        Path image = qemuImage("raw", "moving.raw");
        try (ImageFile file = ImageFile.open(image, OpenOptions.READ_WRITE)) {
            java.nio.file.Files.move(image, dir.resolve("moved.raw"));
            qemuImage("raw", "moving.raw");
            file.writeFully(0, ByteBuffer.wrap(new byte[] {1, 2, 3}));
            // the new file at the old path is free; the moved one is still held
            QemuTools.run("qemu-io", "-f", "raw", "-c", "write 0 4k", image.toString())
                    .requireSuccess();
            QemuTools.Result moved = QemuTools.run(
                    "qemu-io",
                    "-f",
                    "raw",
                    "-c",
                    "write 0 4k",
                    dir.resolve("moved.raw").toString());
            assertTrue(moved.stderr().contains(WRITE), moved.toString());
        }
        assertEquals(1, java.nio.file.Files.readAllBytes(dir.resolve("moved.raw"))[0]);
    }

    @Test
    void lockingDoesNotChangeAMissingFileError() {
        ImageFormatException e = assertThrows(
                ImageFormatException.class, () -> ImageFile.open(dir.resolve("absent"), OpenOptions.READ_WRITE));
        assertEquals(ImageFormatException.Reason.BAD_CHAIN, e.reason());
    }
}
