package io.siphon.format;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.ServiceLoader;

/** The registry of image formats, and probing by magic. */
public final class Formats {
    private static final int PROBE_BYTES = 4096;
    private static final List<ImageFormat> ALL = load();

    private Formats() {}

    private static List<ImageFormat> load() {
        List<ImageFormat> formats = new ArrayList<>();
        ServiceLoader.load(ImageFormat.class, Formats.class.getClassLoader()).forEach(formats::add);
        formats.sort(Comparator.comparing(ImageFormat::name));
        return List.copyOf(formats);
    }

    /** Every known format, by name. */
    public static List<ImageFormat> all() {
        return ALL;
    }

    /** The format named {@code name}, or an error naming the known ones. */
    public static ImageFormat byName(String name) throws ImageFormatException {
        for (ImageFormat format : ALL) {
            if (format.name().equals(name)) {
                return format;
            }
        }
        throw new ImageFormatException(
                ImageFormatException.Reason.UNKNOWN_FORMAT,
                Path.of(""),
                "format",
                "unknown format '" + name + "' (known: "
                        + String.join(", ", ALL.stream().map(ImageFormat::name).toList()) + ")");
    }

    /**
     * The format whose magic {@code path} carries. Raw is never guessed (a guest could write any
     * header into a raw disk): a file without a known magic must be named raw explicitly.
     */
    public static ImageFormat probe(Path path) throws IOException {
        ImageFile.requireRegularOrBlockDevice(path);
        ByteBuffer head = ByteBuffer.allocate(PROBE_BYTES);
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            while (head.hasRemaining() && channel.read(head, head.position()) > 0) {
                // keep reading until full or end of file
            }
        } catch (NoSuchFileException e) {
            throw new ImageFormatException(ImageFormatException.Reason.BAD_CHAIN, path, "", "no such file", e);
        }
        head.flip();
        return probe(path, head);
    }

    /**
     * The format whose magic {@code head} (the first bytes of the image named {@code name}, up to 4
     * KiB) carries; raw is never guessed.
     */
    public static ImageFormat probe(Path name, ByteBuffer head) throws ImageFormatException {
        ImageFormat best = null;
        int bestScore = 0;
        for (ImageFormat format : ALL) {
            int score = format.probe(head.duplicate());
            if (score > bestScore) {
                best = format;
                bestScore = score;
            }
        }
        if (best == null) {
            throw new ImageFormatException(
                    ImageFormatException.Reason.UNKNOWN_FORMAT,
                    name,
                    "",
                    "no known image format (qcow2, qed) recognises it; if it is a raw disk, name the format raw");
        }
        return best;
    }
}
