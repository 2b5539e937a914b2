package io.siphon.format;

import io.siphon.util.Checked;
import io.siphon.util.posix.NativeFile;
import java.io.EOFException;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The host file under an image: positional I/O that transfers whole buffers, QEMU-compatible image
 * locks, hole punching and fast zeroing, data/hole queries, and the file's lifetime. Thread-safe
 * (positional reads and writes on one channel; the native calls are thread-safe).
 *
 * <p>Two descriptors are open on the file: a {@link FileChannel} for data, and a {@link NativeFile}
 * for what the channel cannot do. The image locks belong to the second, so they last exactly as long
 * as this object is open.
 *
 * <p>An image file may also be a read-only {@link ByteSource} (a remote object through the chunk
 * cache): then it has no channel, no locks, and reads all as data.
 */
public final class ImageFile implements AutoCloseable {
    // st_mode file types (POSIX <sys/stat.h>)
    private static final int S_IFMT = 0170000;
    private static final int S_IFSOCK = 0140000;
    private static final int S_IFREG = 0100000;
    private static final int S_IFBLK = 0060000;
    private static final int S_IFDIR = 0040000;
    private static final int S_IFCHR = 0020000;
    private static final int S_IFIFO = 0010000;

    private final Path path;
    private final FileChannel channel;
    private final NativeFile nativeFile;
    private final boolean writable;
    /** Set instead of channel and native file for an image over a byte source. */
    private final ByteSource source;

    private ImageFile(Path path, FileChannel channel, NativeFile nativeFile, boolean writable, ByteSource source) {
        this.path = path;
        this.channel = channel;
        this.nativeFile = nativeFile;
        this.writable = writable;
        this.source = source;
    }

    /**
     * A read-only image file over {@code source}; closing it closes the source. Its path is the
     * source's name (what errors and {@code info} show).
     */
    public static ImageFile ofSource(ByteSource source) {
        return new ImageFile(Path.of(source.name()), null, null, false, source);
    }

    /** Whether this is a byte source rather than a host file. */
    public boolean isSource() {
        return source != null;
    }

    /**
     * Opens {@code path} as {@code options} asks and takes QEMU's image locks for it: a writer refuses
     * (and is refused by) anyone else that writes or reads without force-share; a reader or backing
     * image refuses writers; force-share takes no locks. A conflict is an {@link ImageFormatException}
     * with reason {@code LOCKED}.
     */
    public static ImageFile open(Path path, OpenOptions options) throws IOException {
        requireRegularOrBlockDevice(path);
        NativeFile nativeFile;
        try {
            nativeFile = NativeFile.open(path, options.writable());
        } catch (NoSuchFileException e) {
            throw new ImageFormatException(ImageFormatException.Reason.BAD_CHAIN, path, "", "no such file", e);
        }
        try {
            Optional<QemuLockBytes.Request> locks = QemuLockBytes.requestFor(options);
            if (locks.isPresent()) {
                QemuLockBytes.acquire(nativeFile, locks.get());
            }
            // through the locked descriptor's own name, so that data and locks are on the same file even
            // if the path was renamed or replaced in between
            Path sameFile = nativeFile.descriptorPath().orElse(path);
            FileChannel channel = options.writable()
                    ? FileChannel.open(sameFile, StandardOpenOption.READ, StandardOpenOption.WRITE)
                    : FileChannel.open(sameFile, StandardOpenOption.READ);
            return new ImageFile(path, channel, nativeFile, options.writable(), null);
        } catch (IOException | RuntimeException e) {
            closeQuietly(e, nativeFile);
            throw e;
        }
    }

    /**
     * Refuses, from a stat that cannot block, a file that is neither a regular file nor a block
     * device (a FIFO, socket or character device): opening a FIFO blocks until a writer comes, and
     * QEMU's file driver refuses such files too. Symbolic links are followed.
     */
    public static void requireRegularOrBlockDevice(Path path) throws IOException {
        int mode;
        try {
            mode = (Integer) Files.getAttribute(path, "unix:mode");
        } catch (NoSuchFileException e) {
            throw new ImageFormatException(ImageFormatException.Reason.BAD_CHAIN, path, "", "no such file", e);
        }
        int type = mode & S_IFMT;
        if (type != S_IFREG && type != S_IFBLK) {
            throw new ImageFormatException(
                    ImageFormatException.Reason.REFUSED,
                    path,
                    "",
                    "is a " + fileTypeName(type) + ", not a regular file or block device");
        }
    }

    private static String fileTypeName(int type) {
        return switch (type) {
            case S_IFIFO -> "FIFO";
            case S_IFSOCK -> "socket";
            case S_IFCHR -> "character device";
            case S_IFDIR -> "directory";
            default -> "special file (mode " + Integer.toOctalString(type) + ")";
        };
    }

    private static void closeQuietly(Exception failure, AutoCloseable closeable) {
        try {
            closeable.close();
        } catch (Exception e) {
            failure.addSuppressed(e);
        }
    }

    public Path path() {
        return path;
    }

    public boolean isWritable() {
        return writable;
    }

    /** The channel, for formats that need more than whole-buffer transfers. */
    public FileChannel channel() {
        if (source != null) {
            throw new IllegalStateException(path + ": an image over a byte source has no file channel");
        }
        return channel;
    }

    public long sizeBytes() throws IOException {
        return source != null ? source.sizeBytes() : channel.size();
    }

    /** Reads exactly {@code dst.remaining()} bytes at {@code offsetBytes}; end of file is an error. */
    public void readFully(long offsetBytes, ByteBuffer dst) throws IOException {
        if (source != null) {
            if (Checked.end(offsetBytes, dst.remaining()) > source.sizeBytes()) {
                throw new EOFException(path + ": read past end of object at offset " + offsetBytes);
            }
            source.read(offsetBytes, dst);
            return;
        }
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
        if (source != null) {
            long held = Math.max(0, Math.min(dst.remaining(), source.sizeBytes() - offsetBytes));
            source.read(offsetBytes, dst.slice(dst.position(), (int) held));
            dst.position(dst.position() + (int) held);
            while (dst.hasRemaining()) {
                dst.put((byte) 0);
            }
            return;
        }
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
        if (source != null) {
            requireWritable("write");
        }
        long position = offsetBytes;
        while (src.hasRemaining()) {
            position += channel.write(src, position);
        }
    }

    /** Sets the file's length. */
    public void truncate(long sizeBytes) throws IOException {
        if (source != null) {
            requireWritable("truncate");
        }
        if (sizeBytes < channel.size()) {
            channel.truncate(sizeBytes);
        } else if (sizeBytes > channel.size()) {
            if (Files.isRegularFile(path)) {
                // ftruncate: the new range is a hole, as QEMU's files grow
                try (RandomAccessFile sizing = new RandomAccessFile(path.toFile(), "rw")) {
                    sizing.setLength(sizeBytes);
                }
            } else {
                // FileChannel cannot extend with truncate; a one-byte write at the end does
                channel.write(ByteBuffer.allocate(1), sizeBytes - 1);
            }
        }
    }

    /** Makes written data durable (fdatasync). */
    public void flush() throws IOException {
        if (source == null) {
            channel.force(false);
        }
    }

    /**
     * Deallocates {@code [offsetBytes, offsetBytes + lengthBytes)}, which then reads as zeroes; the
     * file size does not change. Returns false, changing nothing, when the file system cannot punch
     * holes.
     */
    public boolean punchHole(long offsetBytes, long lengthBytes) throws IOException {
        requireWritable("punch a hole");
        Checked.end(offsetBytes, lengthBytes);
        return nativeFile.punchHole(offsetBytes, lengthBytes);
    }

    /**
     * Preallocates {@code [offsetBytes, offsetBytes + lengthBytes)}, growing the file to cover it:
     * with {@code writeZeroes} by writing zeroes (preallocation=full), else by allocating the blocks
     * without writing them (preallocation=falloc), writing zeroes where the file system cannot.
     */
    public void preallocate(long offsetBytes, long lengthBytes, boolean writeZeroes) throws IOException {
        requireWritable("preallocate");
        Checked.end(offsetBytes, lengthBytes);
        if (lengthBytes == 0 || (!writeZeroes && nativeFile.allocate(offsetBytes, lengthBytes))) {
            return;
        }
        ByteBuffer zeroes = ByteBuffer.allocate((int) Math.min(lengthBytes, 1 << 20));
        for (long at = offsetBytes; at < offsetBytes + lengthBytes; ) {
            int n = (int) Math.min(zeroes.capacity(), offsetBytes + lengthBytes - at);
            writeFully(at, zeroes.clear().limit(n));
            at += n;
        }
    }

    /**
     * Makes {@code [offsetBytes, offsetBytes + lengthBytes)} read as zeroes without writing them (it
     * stays allocated); the file size does not change. Returns false, changing nothing, when the file
     * system cannot do it.
     */
    public boolean zeroRange(long offsetBytes, long lengthBytes) throws IOException {
        requireWritable("zero a range");
        Checked.end(offsetBytes, lengthBytes);
        return nativeFile.zeroRange(offsetBytes, lengthBytes);
    }

    /**
     * The offset of the first data byte at or after {@code offsetBytes}, or empty when only holes
     * follow up to the end of the file (or {@code offsetBytes} is at or past it). Granularity is the
     * file system's block; file systems that do not track holes report all as data. A byte source
     * answers from its store's allocation ({@link ByteSource#nextData}).
     */
    public OptionalLong nextData(long offsetBytes) throws IOException {
        if (source != null) {
            return source.nextData(offsetBytes);
        }
        return nativeFile.nextData(offsetBytes);
    }

    /**
     * The offset of the first hole at or after {@code offsetBytes}, the end of the file counting as
     * one; empty when {@code offsetBytes} is at or past the end of the file.
     */
    public OptionalLong nextHole(long offsetBytes) throws IOException {
        if (source != null) {
            return source.nextHole(offsetBytes);
        }
        return nativeFile.nextHole(offsetBytes);
    }

    /**
     * Bytes the file occupies on disk (what {@code qemu-img info} shows as disk size). This counts the
     * file system's own blocks for the file too: punching a hole can make ext4 add a 4 KiB extent
     * block, so space freed by a punch may fall one block short of the hole. 0 for a byte source.
     */
    public long allocatedBytes() throws IOException {
        if (source != null) {
            return 0;
        }
        return nativeFile.allocatedBytes();
    }

    /** Closes the file and releases its image locks. */
    @Override
    public void close() throws IOException {
        if (source != null) {
            source.close();
            return;
        }
        try {
            channel.close();
        } finally {
            nativeFile.close();
        }
    }

    private void requireWritable(String what) throws ImageFormatException {
        if (!writable) {
            throw new ImageFormatException(
                    ImageFormatException.Reason.REFUSED, path, "", "cannot " + what + ": opened read-only");
        }
    }
}
