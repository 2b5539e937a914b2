package io.siphon.format.qcow2;

import io.siphon.format.ImageFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The persistent dirty bitmaps' directory (QEMU's docs/interop/qcow2.txt, "Bitmaps extension"),
 * read for {@code info}: Siphon neither updates nor uses the bitmaps, and clears their auto-clear
 * bit when it writes an image, which tells QEMU they are stale.
 */
final class BitmapDirectory {
    /** QEMU's limits (QCOW2_MAX_BITMAPS, QCOW2_MAX_BITMAP_DIRECTORY_SIZE). */
    private static final int MAX_BITMAPS = 65535;

    private static final long MAX_DIRECTORY_BYTES = 64L << 20;
    private static final int ENTRY_FIXED_BYTES = 24;
    private static final int FLAG_IN_USE = 1;
    private static final int FLAG_AUTO = 2;

    /** One bitmap as info shows it. */
    record Bitmap(String name, long granularityBytes, boolean inUse, boolean auto) {}

    private BitmapDirectory() {}

    /** The bitmaps the header's extension lists; empty without the extension. */
    static List<Bitmap> read(ImageFile file, Qcow2Header header) throws IOException {
        Path path = file.path();
        List<Bitmap> bitmaps = new ArrayList<>();
        Optional<byte[]> extension = header.otherExtensions().stream()
                .filter(e -> e.type() == HeaderExtension.BITMAPS)
                .map(HeaderExtension::data)
                .findFirst();
        if (extension.isEmpty()) {
            return bitmaps;
        }
        ByteBuffer data = ByteBuffer.wrap(extension.get());
        if (data.remaining() < 24) {
            throw Errors.malformed(path, "bitmaps extension", data.remaining() + " bytes, fewer than 24");
        }
        long count = Integer.toUnsignedLong(data.getInt(0));
        long directoryBytes = data.getLong(8);
        long directoryOffset = data.getLong(16);
        long fileSize = file.sizeBytes();
        if (count > MAX_BITMAPS
                || directoryBytes < 0
                || directoryBytes > MAX_DIRECTORY_BYTES
                || directoryOffset < header.clusterSize()
                || directoryOffset > fileSize - directoryBytes) {
            throw Errors.malformed(
                    path,
                    "bitmaps extension",
                    count + " bitmaps in " + directoryBytes + " bytes at " + directoryOffset
                            + " do not fit the file or QEMU's limits");
        }
        ByteBuffer directory = ByteBuffer.allocate((int) directoryBytes);
        file.readFully(directoryOffset, directory);
        directory.flip();
        int at = 0;
        for (long i = 0; i < count; i++) {
            String field = "bitmap directory entry " + i;
            if (at + ENTRY_FIXED_BYTES > directoryBytes) {
                throw Errors.malformed(path, field, "ends past the directory's " + directoryBytes + " bytes");
            }
            int flags = directory.getInt(at + 12);
            int granularityBits = Byte.toUnsignedInt(directory.get(at + 17));
            int nameBytes = Short.toUnsignedInt(directory.getShort(at + 18));
            long extraBytes = Integer.toUnsignedLong(directory.getInt(at + 20));
            long nameAt = at + ENTRY_FIXED_BYTES + extraBytes;
            if (granularityBits < 9 || granularityBits > 31 || nameAt + nameBytes > directoryBytes) {
                throw Errors.malformed(
                        path, field, "granularity_bits " + granularityBits + " or its name does not fit");
            }
            String name = new String(directory.array(), (int) nameAt, nameBytes, StandardCharsets.UTF_8);
            bitmaps.add(new Bitmap(name, 1L << granularityBits, (flags & FLAG_IN_USE) != 0, (flags & FLAG_AUTO) != 0));
            at = (int) ((nameAt + nameBytes + 7) & ~7L);
        }
        return bitmaps;
    }
}
