package io.siphon.format;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;

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

    /** Creates a new image file; fails if it exists. */
    void create(Path path, CreateOptions options) throws IOException;
}
