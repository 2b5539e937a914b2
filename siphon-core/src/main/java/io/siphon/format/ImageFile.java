package io.siphon.format;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The host file under an image: positional I/O that transfers whole buffers, and the file's
 * lifetime. Thread-safe (positional reads and writes on one channel).
 */
public final class ImageFile implements AutoCloseable {
    private final Path path;
    private final FileChannel channel;
    private final boolean writable;

    private ImageFile(Path path, FileChannel channel, boolean writable) {
        this.path = path;
        this.channel = channel;
        this.writable = writable;
    }

    /** Opens {@code path} as {@code options} asks. */
    public static ImageFile open(Path path, OpenOptions options) throws IOException {
        FileChannel channel;
        try {
            channel = options.writable()
                    ? FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE)
                    : FileChannel.open(path, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw new ImageFormatException(ImageFormatException.Reason.BAD_CHAIN, path, "", "no such file", e);
        }
        return new ImageFile(path, channel, options.writable());
    }

    public Path path() {
        return path;
    }

    public boolean isWritable() {
        return writable;
    }

    /** The channel, for formats that need more than whole-buffer transfers. */
    public FileChannel channel() {
        return channel;
    }

    public long sizeBytes() throws IOException {
        return channel.size();
    }

    /** Reads exactly {@code dst.remaining()} bytes at {@code offsetBytes}; end of file is an error. */
    public void readFully(long offsetBytes, ByteBuffer dst) throws IOException {
        long position = offsetBytes;
        while (dst.hasRemaining()) {
            int n = channel.read(dst, position);
            if (n < 0) {
                throw new EOFException(path + ": read past end of file at offset " + position);
            }
            position += n;
        }
    }

    /** Reads {@code dst.remaining()} bytes at {@code offsetBytes}; what lies past end of file reads as zeroes. */
    public void readZeroPadded(long offsetBytes, ByteBuffer dst) throws IOException {
        long position = offsetBytes;
        while (dst.hasRemaining()) {
            int n = channel.read(dst, position);
            if (n < 0) {
                while (dst.hasRemaining()) {
                    dst.put((byte) 0);
                }
                return;
            }
            position += n;
        }
    }

    /** Writes all of {@code src} at {@code offsetBytes}. */
    public void writeFully(long offsetBytes, ByteBuffer src) throws IOException {
        long position = offsetBytes;
        while (src.hasRemaining()) {
            position += channel.write(src, position);
        }
    }

    /** Sets the file's length. */
    public void truncate(long sizeBytes) throws IOException {
        if (sizeBytes < channel.size()) {
            channel.truncate(sizeBytes);
        } else if (sizeBytes > channel.size()) {
            // FileChannel cannot extend with truncate; a one-byte write at the end does
            channel.write(ByteBuffer.allocate(1), sizeBytes - 1);
        }
    }

    /** Makes written data durable (fdatasync). */
    public void flush() throws IOException {
        channel.force(false);
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
