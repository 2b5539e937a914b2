package io.siphon.util.posix;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NativeFileTest {
    private static final int MIB = 1 << 20;

    @TempDir
    Path dir;

    /** A 4 MiB sparse file with 1 MiB of data at 1 MiB. */
    private Path sparseFile() throws IOException {
        Path file = dir.resolve("sparse");
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            channel.write(ByteBuffer.wrap(filled(MIB, (byte) 0x5a)), MIB);
            channel.truncate(4 * MIB);
            channel.write(ByteBuffer.allocate(1), 4 * MIB - 1);
            channel.force(true);
        }
        return file;
    }

    private static byte[] filled(int length, byte value) {
        byte[] bytes = new byte[length];
        java.util.Arrays.fill(bytes, value);
        return bytes;
    }

    private static byte[] readAt(Path file, long offset, int length) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(length);
        try (FileChannel channel = FileChannel.open(file)) {
            channel.read(buffer, offset);
        }
        return buffer.array();
    }

    @Test
    void seekDataAndHoleFindTheWrittenRange() throws IOException {
        Path file = sparseFile();
        try (NativeFile nativeFile = NativeFile.open(file, false)) {
            assertEquals(OptionalLong.of(MIB), nativeFile.nextData(0));
            assertEquals(OptionalLong.of(2 * MIB), nativeFile.nextHole(MIB));
            assertEquals(OptionalLong.of(0), nativeFile.nextHole(0));
            assertEquals(OptionalLong.empty(), nativeFile.nextData(4 * MIB), "at end of file");
            assertEquals(OptionalLong.empty(), nativeFile.nextHole(4 * MIB + 1), "past end of file");
        }
    }

    @Test
    void punchHoleFreesSpaceAndReadsZeroes() throws IOException {
        Path file = sparseFile();
        try (NativeFile nativeFile = NativeFile.open(file, true)) {
            long before = nativeFile.allocatedBytes();
            assertTrue(before >= MIB, "1 MiB written, " + before + " allocated");
            assertTrue(nativeFile.punchHole(MIB, MIB / 2), "ext4 and tmpfs punch holes");
            long after = nativeFile.allocatedBytes();
            assertEquals(after, NativeFile.allocatedBytes(file), "by path as by descriptor");
            assertTrue(after <= before - MIB / 2, "allocated " + before + " before, " + after + " after");
            assertEquals(OptionalLong.of(MIB + MIB / 2), nativeFile.nextData(0));
        }
        assertEquals(4 * MIB, Files.size(file), "size is kept");
        assertEquals(
                java.util.Arrays.toString(new byte[4096]), java.util.Arrays.toString(readAt(file, MIB + 4096, 4096)));
    }

    @Test
    void zeroRangeReadsZeroesAndKeepsSize() throws IOException {
        Path file = sparseFile();
        try (NativeFile nativeFile = NativeFile.open(file, true)) {
            boolean supported = nativeFile.zeroRange(MIB + 100, 5000);
            if (!supported) {
                // the file system said EOPNOTSUPP: nothing may have changed
                assertEquals(0x5a, readAt(file, MIB + 100, 1)[0]);
                return;
            }
        }
        byte[] around = readAt(file, MIB, 5200);
        assertEquals(0x5a, around[99]);
        for (int i = 100; i < 5100; i++) {
            assertEquals(0, around[i], "byte " + (MIB + i));
        }
        assertEquals(0x5a, around[5100]);
        assertEquals(4 * MIB, Files.size(file));
    }

    @Test
    void locksOfTwoDescriptionsConflictInOneProcess() throws IOException {
        Path file = sparseFile();
        try (NativeFile first = NativeFile.open(file, false);
                NativeFile second = NativeFile.open(file, true)) {
            assertTrue(first.tryLock(100, 1, LockType.SHARED));
            assertTrue(second.tryLock(100, 1, LockType.SHARED), "shared locks coexist");
            assertFalse(second.tryLock(100, 1, LockType.EXCLUSIVE), "exclusive conflicts with the other's shared");
            assertEquals(Optional.of(LockType.SHARED), second.conflictingLock(100, 1, LockType.EXCLUSIVE));
            assertEquals(Optional.empty(), second.conflictingLock(101, 1, LockType.EXCLUSIVE));
            assertEquals(Optional.empty(), second.conflictingLock(100, 1, LockType.SHARED));
            first.unlock(100, 1);
            assertTrue(second.tryLock(100, 1, LockType.EXCLUSIVE), "free after unlock");
            assertEquals(Optional.of(LockType.EXCLUSIVE), first.conflictingLock(100, 1, LockType.SHARED));
        }
    }

    @Test
    void closingReleasesLocks() throws IOException {
        Path file = sparseFile();
        try (NativeFile holder = NativeFile.open(file, false)) {
            NativeFile first = NativeFile.open(file, false);
            assertTrue(first.tryLock(200, 4, LockType.SHARED));
            assertTrue(holder.conflictingLock(202, 1, LockType.EXCLUSIVE).isPresent());
            first.close();
            first.close();
            assertEquals(Optional.empty(), holder.conflictingLock(200, 4, LockType.EXCLUSIVE));
            assertThrows(ClosedChannelException.class, () -> first.nextData(0));
        }
    }

    @Test
    void errorsNameTheFileAndTheCall() throws IOException {
        assertThrows(NoSuchFileException.class, () -> NativeFile.open(dir.resolve("missing"), false));
        assertThrows(NoSuchFileException.class, () -> NativeFile.allocatedBytes(dir.resolve("missing")));
        Path file = sparseFile();
        try (NativeFile readOnly = NativeFile.open(file, false)) {
            PosixException e = assertThrows(PosixException.class, () -> readOnly.punchHole(0, 4096));
            assertEquals(9, e.errno(), "EBADF: the descriptor is not open for writing");
            assertEquals(
                    file + ": fallocate(FALLOC_FL_PUNCH_HOLE) failed: EBADF (bad file descriptor)", e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> readOnly.nextData(-1));
        }
    }
}
