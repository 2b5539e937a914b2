package io.siphon.format.qcow2;

import io.siphon.format.ImageFile;
import io.siphon.format.ImageSnapshot;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;

/**
 * The internal snapshot table (QEMU's docs/interop/qcow2.txt, "Snapshots"): {@code nb_snapshots}
 * entries from {@code snapshots_offset}, each a fixed part, extra data, the ID and name strings,
 * padded to 8 bytes. Read-only here; every length is checked against the file.
 */
final class SnapshotTable {
    /** QEMU's limit (QCOW_MAX_SNAPSHOTS). */
    static final int MAX_SNAPSHOTS = 65536;

    private static final int FIXED_BYTES = 40;
    private static final int EXTRA_VM_STATE = 8;
    private static final int EXTRA_ICOUNT = 24;

    /**
     * One entry: what a user sees, the L1 table the snapshot keeps, and the bytes the entry takes in
     * the table as read (0 for one not yet written).
     */
    record Entry(ImageSnapshot snapshot, long l1TableOffset, int l1Size, long diskSizeBytes, long storedBytes) {}

    private SnapshotTable() {}

    static List<Entry> read(ImageFile file, Qcow2Header header) throws IOException {
        Path path = file.path();
        int count = header.nbSnapshots();
        List<Entry> entries = new ArrayList<>();
        if (count == 0) {
            return entries;
        }
        if (count < 0 || count > MAX_SNAPSHOTS) {
            throw Errors.malformed(path, "nb_snapshots", count + " is more than QEMU's " + MAX_SNAPSHOTS);
        }
        long fileSize = file.sizeBytes();
        long at = header.snapshotsOffset();
        if ((at & 7) != 0 || at < header.clusterSize() || at >= fileSize) {
            throw Errors.malformed(path, "snapshots_offset", at + " is unaligned or outside the file");
        }
        for (int i = 0; i < count; i++) {
            String field = "snapshot table entry " + i;
            ByteBuffer fixed = readAt(file, fileSize, at, FIXED_BYTES, field);
            long l1Offset = fixed.getLong(0);
            int l1Size = fixed.getInt(8);
            int idBytes = Short.toUnsignedInt(fixed.getShort(12));
            int nameBytes = Short.toUnsignedInt(fixed.getShort(14));
            long dateSeconds = Integer.toUnsignedLong(fixed.getInt(16));
            long dateNanos = Integer.toUnsignedLong(fixed.getInt(20));
            long vmClockNanos = fixed.getLong(24);
            long vmState = Integer.toUnsignedLong(fixed.getInt(32));
            long extraBytes = Integer.toUnsignedLong(fixed.getInt(36));
            if (extraBytes > 1024) {
                throw Errors.malformed(path, field, "extra data of " + extraBytes + " bytes (QEMU allows 1024)");
            }
            ByteBuffer extra = readAt(file, fileSize, at + FIXED_BYTES, (int) extraBytes, field);
            long diskSize = header.sizeBytes();
            OptionalLong icount = OptionalLong.empty();
            if (extraBytes >= EXTRA_VM_STATE) {
                vmState = extra.getLong(0);
            }
            if (extraBytes >= 16) {
                diskSize = extra.getLong(8);
            }
            if (extraBytes >= EXTRA_ICOUNT && extra.getLong(16) != -1) {
                icount = OptionalLong.of(extra.getLong(16));
            }
            long strings = at + FIXED_BYTES + extraBytes;
            String id = text(readAt(file, fileSize, strings, idBytes, field));
            String name = text(readAt(file, fileSize, strings + idBytes, nameBytes, field));
            entries.add(new Entry(
                    new ImageSnapshot(id, name, dateSeconds, dateNanos, vmClockNanos, vmState, icount),
                    l1Offset,
                    l1Size,
                    diskSize,
                    ((strings + idBytes + nameBytes + 7) & ~7L) - at));
            at = (strings + idBytes + nameBytes + 7) & ~7L;
        }
        return entries;
    }

    /**
     * The table as QEMU writes it: each entry with 24 bytes of extra data (VM state size, disk size,
     * instruction count), padded to 8 bytes.
     */
    static ByteBuffer encode(List<Entry> entries) {
        int total = 0;
        for (Entry entry : entries) {
            total += encodedBytes(entry);
        }
        ByteBuffer out = ByteBuffer.allocate(total);
        for (Entry entry : entries) {
            ImageSnapshot snapshot = entry.snapshot();
            byte[] id = snapshot.id().getBytes(StandardCharsets.UTF_8);
            byte[] name = snapshot.name().getBytes(StandardCharsets.UTF_8);
            int start = out.position();
            out.putLong(entry.l1TableOffset())
                    .putInt(entry.l1Size())
                    .putShort((short) id.length)
                    .putShort((short) name.length)
                    .putInt((int) snapshot.dateSeconds())
                    .putInt((int) snapshot.dateNanos())
                    .putLong(snapshot.vmClockNanos())
                    .putInt((int) Math.min(snapshot.vmStateBytes(), 0xffffffffL))
                    .putInt(EXTRA_ICOUNT)
                    .putLong(snapshot.vmStateBytes())
                    .putLong(entry.diskSizeBytes())
                    .putLong(snapshot.icount().orElse(-1))
                    .put(id)
                    .put(name);
            out.position(start + encodedBytes(entry));
        }
        return out.flip();
    }

    private static int encodedBytes(Entry entry) {
        int bytes = FIXED_BYTES
                + EXTRA_ICOUNT
                + entry.snapshot().id().getBytes(StandardCharsets.UTF_8).length
                + entry.snapshot().name().getBytes(StandardCharsets.UTF_8).length;
        return (bytes + 7) & ~7;
    }

    private static ByteBuffer readAt(ImageFile file, long fileSize, long offset, int bytes, String field)
            throws IOException {
        if (offset + bytes > fileSize) {
            throw Errors.malformed(file.path(), field, "ends past the end of the file (" + fileSize + " bytes)");
        }
        ByteBuffer buffer = ByteBuffer.allocate(bytes);
        file.readFully(offset, buffer);
        return buffer.flip();
    }

    private static String text(ByteBuffer bytes) {
        return new String(bytes.array(), StandardCharsets.UTF_8);
    }
}
