package io.siphon.format.raw;

import io.siphon.format.CreateOptions;
import io.siphon.format.Image;
import io.siphon.format.ImageFile;
import io.siphon.format.ImageFormat;
import io.siphon.format.ImageFormatException;
import io.siphon.format.MeasureSource;
import io.siphon.format.Measurement;
import io.siphon.format.OpenOptions;
import io.siphon.format.Preallocation;
import io.siphon.util.Alignment;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/** A raw disk: the file's bytes are the disk's bytes. Never probed; always named. */
public final class RawFormat implements ImageFormat {
    private static final int FIRST_BLOCK_BYTES = 4096;

    public static final String NAME = "raw";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public int probe(ByteBuffer head) {
        return 0;
    }

    @Override
    public Image open(ImageFile file, OpenOptions options) throws IOException {
        return new RawImage(file);
    }

    @Override
    public void resize(Path path, long newSizeBytes) throws IOException {
        try (ImageFile file = ImageFile.open(path, OpenOptions.READ_WRITE)) {
            file.truncate(newSizeBytes);
            file.flush();
        }
    }

    /** As QEMU's raw driver: every byte of the size, rounded up to 512, whatever the source holds. */
    @Override
    public Measurement measure(MeasureSource source, Map<String, String> options) throws ImageFormatException {
        validateCreateOptions(Path.of(""), options);
        long bytes = Alignment.alignUp(source.sizeBytes(), 512);
        return new Measurement(bytes, bytes, OptionalLong.empty());
    }

    @Override
    public void validateCreateOptions(Path path, Map<String, String> formatOptions) throws ImageFormatException {
        preallocation(path, formatOptions);
    }

    /** raw's one option: off, falloc or full (qemu-img's refusals of the rest in its words). */
    private static Preallocation preallocation(Path path, Map<String, String> formatOptions)
            throws ImageFormatException {
        Map<String, String> rest = new HashMap<>(formatOptions);
        String given = rest.remove("preallocation");
        if (!rest.isEmpty()) {
            throw new ImageFormatException(
                    ImageFormatException.Reason.REFUSED,
                    path,
                    "options",
                    "raw takes only preallocation, got " + rest.keySet());
        }
        Preallocation mode = Preallocation.parse(path, Optional.ofNullable(given), "invalid parameter value: " + given);
        if (mode == Preallocation.METADATA) {
            throw mode.unsupported(path);
        }
        return mode;
    }

    @Override
    public void create(Path path, CreateOptions options) throws IOException {
        if (options.backing().isPresent()) {
            throw new ImageFormatException(
                    ImageFormatException.Reason.REFUSED, path, "backing file", "raw images have no backing file");
        }
        Preallocation mode = preallocation(path, options.formatOptions());
        if (options.sizeBytes() == CreateOptions.SIZE_OF_BACKING) {
            throw new ImageFormatException(ImageFormatException.Reason.REFUSED, path, "size", "a size is required");
        }
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            // extended without writing: the disk is a hole but for the first block (below)
            try (RandomAccessFile sizing = new RandomAccessFile(path.toFile(), "rw")) {
                sizing.setLength(options.sizeBytes());
            }
        } catch (FileAlreadyExistsException e) {
            throw new ImageFormatException(ImageFormatException.Reason.REFUSED, path, "", "file already exists", e);
        }
        // as QEMU's file driver: every block allocated (falloc) or written with zeroes (full); without
        // preallocation the first block is written (its allocate_first_block, for alignment probing)
        try (ImageFile file = ImageFile.open(path, OpenOptions.READ_WRITE)) {
            if (mode == Preallocation.OFF) {
                file.writeFully(0, ByteBuffer.allocate((int) Math.min(options.sizeBytes(), FIRST_BLOCK_BYTES)));
            } else {
                file.preallocate(0, options.sizeBytes(), mode == Preallocation.FULL);
            }
            file.flush();
        }
    }
}
