package io.siphon.format;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Map;

/** An image format: probing, opening and creating. Found by {@link Formats} through ServiceLoader. */
public interface ImageFormat {
    /** The name as qemu-img spells it. */
    String name();

    /**
     * How sure the format is that {@code head} (the first bytes of a file, up to 4 KiB, fewer for a
     * short file) is its own: 0 not at all, 100 certain. Raw never claims a file.
     */
    int probe(ByteBuffer head);

    /** Opens an image on a file already opened (and locked) as {@code options} asks. */
    Image open(ImageFile file, OpenOptions options) throws IOException;

    /**
     * Opens an image for {@link Image#check}: opened read-only, a format may accept metadata that
     * {@link #open} refuses, so that the check reports it (as qemu-img check does) instead of failing;
     * such an image may read less than the file holds and is for checking only.
     */
    default Image openForCheck(ImageFile file, OpenOptions options) throws IOException {
        return open(file, options);
    }

    /**
     * Refuses format options {@link #create} would refuse (unknown names, bad values), without
     * touching the file system, so that a caller fails before it prints or writes anything.
     */
    void validateCreateOptions(Path path, Map<String, String> formatOptions) throws ImageFormatException;

    /**
     * Changes the virtual size of the image at {@code path}, which this call opens for writing (and
     * locks): a larger size reads zeroes (or the backing file) in the new range, a smaller one drops
     * what lies past it. Formats that cannot refuse with an UNSUPPORTED error.
     */
    default void resize(Path path, long newSizeBytes) throws IOException {
        throw new ImageFormatException(
                ImageFormatException.Reason.UNSUPPORTED, path, "size", name() + " images cannot be resized");
    }

    /**
     * The file size a new image of this format with {@code options} needs for {@code source}, as
     * {@code qemu-img measure}; formats that cannot say refuse with an UNSUPPORTED error.
     */
    default Measurement measure(MeasureSource source, Map<String, String> options) throws ImageFormatException {
        throw new ImageFormatException(
                ImageFormatException.Reason.UNSUPPORTED,
                java.nio.file.Path.of(""),
                "format",
                "Block driver '" + name() + "' does not support size measurement");
    }

    /** Told the work done so far and the total, in units of the format's choosing, as an amend goes. */
    @FunctionalInterface
    interface AmendProgress {
        AmendProgress NONE = (done, total) -> {};

        void progress(long done, long total);
    }

    /**
     * Changes the options {@code qemu-img amend -o} names, telling {@code progress} how far it is
     * where qemu-img reports it; formats without amendment refuse in qemu-img's words.
     */
    default void amend(Path path, Map<String, String> options, AmendProgress progress) throws IOException {
        throw new ImageFormatException(
                ImageFormatException.Reason.UNSUPPORTED,
                Path.of(""),
                "",
                "Format driver '" + name() + "' does not support option amendment");
    }

    /**
     * Drops everything the image at {@code path} holds, so that it reads its backing again (what
     * {@code qemu-img commit} does to the top); false when the format cannot (QEMU's ENOTSUP, which
     * qemu-img commit ignores: a QED top is left as it is).
     */
    default boolean makeEmpty(Path path) throws IOException {
        return false;
    }

    /** Whether its images store compressed clusters ({@link Image#writeCompressed}). */
    default boolean supportsCompression() {
        return false;
    }

    /** Takes an internal snapshot named {@code name} of the image at {@code path} (qemu-img snapshot -c). */
    default void createSnapshot(Path path, String name) throws IOException {
        throw noSnapshots(path);
    }

    /** Reverts the disk to the first internal snapshot named {@code name} (qemu-img snapshot -a). */
    default void applySnapshot(Path path, String name) throws IOException {
        throw noSnapshots(path);
    }

    /** Deletes the first internal snapshot named {@code name} (qemu-img snapshot -d). */
    default void deleteSnapshot(Path path, String name) throws IOException {
        throw noSnapshots(path);
    }

    /** Creates a new image file; fails if it exists. */
    void create(Path path, CreateOptions options) throws IOException;

    private ImageFormatException noSnapshots(Path path) {
        return new ImageFormatException(
                ImageFormatException.Reason.UNSUPPORTED,
                path,
                "snapshot",
                name() + " images have no internal snapshots");
    }
}
