package io.siphon.cache;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.zip.CRC32C;

/**
 * One chunk on disk: its bytes, then a 12-byte trailer (CRC-32C of the bytes, their length, a
 * magic). It is written to a temporary file and renamed into place, so a reader sees a whole chunk
 * or none; the checksum catches what a power loss may leave of a renamed file whose data never
 * reached the disk.
 */
final class ChunkFile {
    static final String TEMP_SUFFIX = ".tmp";
    private static final int MAGIC = 0x53434b31; // "SCK1"
    static final int TRAILER_BYTES = 12;

    private ChunkFile() {}

    /** Writes {@code data} as {@code path}, atomically; a failure leaves no file at {@code path}. */
    static void write(Path path, ByteBuffer data) throws IOException {
        ByteBuffer bytes = data.duplicate();
        CRC32C crc = new CRC32C();
        crc.update(bytes.duplicate());
        ByteBuffer trailer = ByteBuffer.allocate(TRAILER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        trailer.putInt((int) crc.getValue())
                .putInt(bytes.remaining())
                .putInt(MAGIC)
                .flip();
        Path temp = path.resolveSibling(path.getFileName() + "."
                + Long.toHexString(ThreadLocalRandom.current().nextLong()) + TEMP_SUFFIX);
        try {
            try (FileChannel channel =
                    FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                while (bytes.hasRemaining()) {
                    channel.write(bytes);
                }
                while (trailer.hasRemaining()) {
                    channel.write(trailer);
                }
            }
            try {
                Files.move(temp, path, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException(path + ": the cache's file system cannot rename atomically", e);
            }
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    /**
     * The chunk stored at {@code path}, or empty when there is none or it is not whole: wrong length,
     * bad trailer or checksum (such a file is deleted, and {@code onRejected} runs).
     */
    static Optional<ByteBuffer> read(Path path, int expectedBytes, Runnable onRejected) throws IOException {
        byte[] all;
        try {
            all = Files.readAllBytes(path);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
        if (isWhole(all, expectedBytes)) {
            return Optional.of(ByteBuffer.wrap(all, 0, expectedBytes).slice());
        }
        Files.deleteIfExists(path);
        onRejected.run();
        return Optional.empty();
    }

    private static boolean isWhole(byte[] all, int expectedBytes) {
        if (all.length != expectedBytes + TRAILER_BYTES) {
            return false;
        }
        ByteBuffer trailer = ByteBuffer.wrap(all, expectedBytes, TRAILER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        int crcValue = trailer.getInt();
        int length = trailer.getInt();
        int magic = trailer.getInt();
        if (magic != MAGIC || length != expectedBytes) {
            return false;
        }
        CRC32C crc = new CRC32C();
        crc.update(all, 0, expectedBytes);
        return (int) crc.getValue() == crcValue;
    }
}
