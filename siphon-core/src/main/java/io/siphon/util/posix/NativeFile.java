package io.siphon.util.posix;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.channels.ClosedChannelException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * A file descriptor of its own on a file, for what {@link java.nio.channels.FileChannel} cannot do:
 * open-file-description byte-range locks ({@code F_OFD_SETLK}), {@code fallocate} hole punching and
 * zeroing, {@code SEEK_DATA}/{@code SEEK_HOLE}, and the allocated size. Linux only.
 *
 * <p>OFD locks belong to this descriptor: they stay while it is open, whatever other descriptors of
 * the same file are closed, and are released by {@link #close()}. Locks of two descriptors conflict
 * even within one process. Thread-safe; calls after {@link #close()} throw {@link
 * ClosedChannelException}.
 */
public final class NativeFile implements AutoCloseable {
    private final Path path;
    private final int fd;
    private final boolean writable;
    // calls hold the read lock so that close cannot release the descriptor number for reuse mid-call
    private final ReadWriteLock closing = new ReentrantReadWriteLock();
    private boolean closed;

    private NativeFile(Path path, int fd, boolean writable) {
        this.path = path;
        this.fd = fd;
        this.writable = writable;
    }

    /**
     * Opens {@code path} read-only or read-write (never creating it), close-on-exec. A missing file is
     * a {@link NoSuchFileException}, a refused one an {@link AccessDeniedException}.
     */
    public static NativeFile open(Path path, boolean writable) throws IOException {
        MethodHandle open = require(LibC.OPEN, "open", path);
        int flags = (writable ? LibC.O_RDWR : LibC.O_RDONLY) | LibC.O_CLOEXEC;
        return downcall("open", arena -> {
            MemorySegment state = LibC.captureState(arena);
            MemorySegment cPath = arena.allocateFrom(path.toString());
            while (true) {
                int fd = (int) open.invokeExact(state, cPath, flags, 0);
                if (fd >= 0) {
                    return new NativeFile(path, fd, writable);
                }
                int errno = LibC.errno(state);
                switch (errno) {
                    case Errno.EINTR -> {}
                    case Errno.ENOENT -> throw new NoSuchFileException(path.toString());
                    case Errno.EACCES, Errno.EPERM, Errno.EROFS ->
                        throw new AccessDeniedException(path.toString(), null, Errno.describe(errno));
                    case Errno.EISDIR -> throw new FileSystemException(path.toString(), null, Errno.describe(errno));
                    default -> throw new PosixException(path, "open", errno);
                }
            }
        });
    }

    /** The path the file was opened by. */
    public Path path() {
        return path;
    }

    /**
     * A name for exactly the file this descriptor has open ({@code /proc/self/fd/N}), which stays
     * right if the path is renamed or replaced; empty without procfs. Valid while this is open.
     */
    public Optional<Path> descriptorPath() {
        Path self = Path.of("/proc/self/fd", Integer.toString(fd));
        return Files.exists(self) ? Optional.of(self) : Optional.empty();
    }

    /** Whether the descriptor was opened read-write. */
    public boolean isWritable() {
        return writable;
    }

    /**
     * Takes a lock of {@code type} on {@code [offsetBytes, offsetBytes + lengthBytes)} without waiting
     * ({@code F_OFD_SETLK}); a lock this descriptor already holds on the range is converted. Returns
     * false when another open file description holds a conflicting lock. An exclusive lock needs a
     * read-write descriptor.
     */
    public boolean tryLock(long offsetBytes, long lengthBytes, LockType type) throws IOException {
        int result = setLock(offsetBytes, lengthBytes, type.cValue);
        return result == 0;
    }

    /** Releases this descriptor's locks on the range. */
    public void unlock(long offsetBytes, long lengthBytes) throws IOException {
        setLock(offsetBytes, lengthBytes, LibC.F_UNLCK);
    }

    /**
     * The type of a lock held through another open file description that would conflict with taking
     * {@code wanted} on the range ({@code F_OFD_GETLK}), or empty when {@code wanted} could be taken.
     * This descriptor's own locks never conflict.
     */
    public Optional<LockType> conflictingLock(long offsetBytes, long lengthBytes, LockType wanted) throws IOException {
        MethodHandle fcntl = require(LibC.FCNTL, "fcntl", path);
        requireRange(offsetBytes, lengthBytes);
        String call = "fcntl(F_OFD_GETLK)";
        return call(call, arena -> {
            MemorySegment state = LibC.captureState(arena);
            MemorySegment flock = flock(arena, offsetBytes, lengthBytes, wanted.cValue);
            int result = (int) fcntl.invokeExact(state, fd, LibC.F_OFD_GETLK, flock);
            if (result != 0) {
                throw new PosixException(path, call, LibC.errno(state));
            }
            short type = flock.get(ValueLayout.JAVA_SHORT, LibC.FLOCK_TYPE);
            return switch (type) {
                case LibC.F_UNLCK -> Optional.<LockType>empty();
                case LibC.F_RDLCK -> Optional.of(LockType.SHARED);
                default -> Optional.of(LockType.EXCLUSIVE);
            };
        });
    }

    /**
     * Deallocates the range, keeping the file size; afterwards it reads as zeroes ({@code
     * FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE}). Returns false, changing nothing, when the file
     * system does not support it.
     */
    public boolean punchHole(long offsetBytes, long lengthBytes) throws IOException {
        return fallocate(
                "fallocate(FALLOC_FL_PUNCH_HOLE)",
                LibC.FALLOC_FL_PUNCH_HOLE | LibC.FALLOC_FL_KEEP_SIZE,
                offsetBytes,
                lengthBytes);
    }

    /**
     * Allocates the range's blocks (they read as zeroes where nothing was written), growing the file
     * to cover it ({@code fallocate} mode 0, as {@code posix_fallocate}). Returns false, changing
     * nothing, when the file system does not support it.
     */
    public boolean allocate(long offsetBytes, long lengthBytes) throws IOException {
        return fallocate("fallocate", 0, offsetBytes, lengthBytes);
    }

    /**
     * Makes the range read as zeroes without writing them, keeping the file size and the range
     * allocated ({@code FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE}). Returns false, changing nothing,
     * when the file system does not support it.
     */
    public boolean zeroRange(long offsetBytes, long lengthBytes) throws IOException {
        return fallocate(
                "fallocate(FALLOC_FL_ZERO_RANGE)",
                LibC.FALLOC_FL_ZERO_RANGE | LibC.FALLOC_FL_KEEP_SIZE,
                offsetBytes,
                lengthBytes);
    }

    /**
     * The offset of the first byte of data at or after {@code offsetBytes} ({@code SEEK_DATA}), or
     * empty when only a hole follows up to the end of the file, or {@code offsetBytes} is at or past
     * it. File systems that do not track holes report everything as data.
     */
    public OptionalLong nextData(long offsetBytes) throws IOException {
        return seek("lseek(SEEK_DATA)", offsetBytes, LibC.SEEK_DATA);
    }

    /**
     * The offset of the first hole at or after {@code offsetBytes} ({@code SEEK_HOLE}); the end of the
     * file counts as a hole. Empty when {@code offsetBytes} is at or past the end of the file.
     */
    public OptionalLong nextHole(long offsetBytes) throws IOException {
        return seek("lseek(SEEK_HOLE)", offsetBytes, LibC.SEEK_HOLE);
    }

    /** Bytes the file occupies on its file system ({@code st_blocks} × 512, from {@code statx}). */
    public long allocatedBytes() throws IOException {
        return call("statx", arena -> statxAllocatedBytes(arena, fd, "", path));
    }

    /**
     * Bytes {@code path} occupies on its file system ({@code st_blocks} × 512), without opening it;
     * qemu-img's "disk size". A symbolic link is followed.
     */
    public static long allocatedBytes(Path path) throws IOException {
        return downcall("statx", arena -> statxAllocatedBytes(arena, LibC.AT_FDCWD, path.toString(), path));
    }

    // statx relative to dirFd; an empty name means dirFd itself
    private static long statxAllocatedBytes(Arena arena, int dirFd, String name, Path path) throws Throwable {
        MethodHandle statx = require(LibC.STATX, "statx", path);
        MemorySegment state = LibC.captureState(arena);
        MemorySegment buffer = arena.allocate(LibC.STATX_BYTES, 8);
        int flags = name.isEmpty() ? LibC.AT_EMPTY_PATH : 0;
        int result = (int) statx.invokeExact(state, dirFd, arena.allocateFrom(name), flags, LibC.STATX_BLOCKS, buffer);
        if (result != 0) {
            int errno = LibC.errno(state);
            if (errno == Errno.ENOENT) {
                throw new NoSuchFileException(path.toString());
            }
            throw new PosixException(path, "statx", errno);
        }
        int mask = buffer.get(ValueLayout.JAVA_INT, 0);
        if ((mask & LibC.STATX_BLOCKS) == 0) {
            throw new PosixException(path, "statx(STATX_BLOCKS)", Errno.EOPNOTSUPP);
        }
        return Math.multiplyExact(buffer.get(ValueLayout.JAVA_LONG, LibC.STATX_BLOCKS_OFFSET), 512L);
    }

    /** Closes the descriptor, releasing its locks. Idempotent. */
    @Override
    public void close() throws IOException {
        closing.writeLock().lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            MethodHandle close = require(LibC.CLOSE, "close", path);
            downcall("close", arena -> {
                MemorySegment state = LibC.captureState(arena);
                // close is not retried on EINTR: on Linux the descriptor is released regardless
                int result = (int) close.invokeExact(state, fd);
                if (result != 0 && LibC.errno(state) != Errno.EINTR) {
                    throw new PosixException(path, "close", LibC.errno(state));
                }
                return null;
            });
        } finally {
            closing.writeLock().unlock();
        }
    }

    private int setLock(long offsetBytes, long lengthBytes, short type) throws IOException {
        MethodHandle fcntl = require(LibC.FCNTL, "fcntl", path);
        requireRange(offsetBytes, lengthBytes);
        String call = "fcntl(F_OFD_SETLK)";
        return call(call, arena -> {
            MemorySegment state = LibC.captureState(arena);
            MemorySegment flock = flock(arena, offsetBytes, lengthBytes, type);
            while (true) {
                int result = (int) fcntl.invokeExact(state, fd, LibC.F_OFD_SETLK, flock);
                if (result == 0) {
                    return 0;
                }
                int errno = LibC.errno(state);
                if (errno == Errno.EAGAIN || errno == Errno.EACCES) {
                    return -1;
                }
                if (errno != Errno.EINTR) {
                    throw new PosixException(path, call, errno);
                }
            }
        });
    }

    private boolean fallocate(String call, int mode, long offsetBytes, long lengthBytes) throws IOException {
        MethodHandle fallocate = require(LibC.FALLOCATE, "fallocate", path);
        requireRange(offsetBytes, lengthBytes);
        if (lengthBytes == 0) {
            return true;
        }
        return call(call, arena -> {
            MemorySegment state = LibC.captureState(arena);
            while (true) {
                int result = (int) fallocate.invokeExact(state, fd, mode, offsetBytes, lengthBytes);
                if (result == 0) {
                    return true;
                }
                int errno = LibC.errno(state);
                if (errno == Errno.EOPNOTSUPP || errno == Errno.ENOSYS) {
                    return false;
                }
                if (errno != Errno.EINTR) {
                    throw new PosixException(path, call, errno);
                }
            }
        });
    }

    private OptionalLong seek(String call, long offsetBytes, int whence) throws IOException {
        MethodHandle lseek = require(LibC.LSEEK, "lseek", path);
        requireRange(offsetBytes, 0);
        return call(call, arena -> {
            MemorySegment state = LibC.captureState(arena);
            long result = (long) lseek.invokeExact(state, fd, offsetBytes, whence);
            if (result >= 0) {
                return OptionalLong.of(result);
            }
            int errno = LibC.errno(state);
            if (errno == Errno.ENXIO) {
                return OptionalLong.empty();
            }
            throw new PosixException(path, call, errno);
        });
    }

    private static MemorySegment flock(Arena arena, long offsetBytes, long lengthBytes, short type) {
        MemorySegment flock = arena.allocate(LibC.FLOCK);
        flock.set(ValueLayout.JAVA_SHORT, LibC.FLOCK_TYPE, type);
        flock.set(ValueLayout.JAVA_SHORT, LibC.FLOCK_WHENCE, LibC.SEEK_SET);
        flock.set(ValueLayout.JAVA_LONG, LibC.FLOCK_START, offsetBytes);
        flock.set(ValueLayout.JAVA_LONG, LibC.FLOCK_LEN, lengthBytes);
        // OFD lock calls require l_pid to be zero
        flock.set(ValueLayout.JAVA_INT, LibC.FLOCK_PID, 0);
        return flock;
    }

    private static void requireRange(long offsetBytes, long lengthBytes) {
        if (offsetBytes < 0 || lengthBytes < 0 || offsetBytes > Long.MAX_VALUE - lengthBytes) {
            throw new IllegalArgumentException("bad file range: offset " + offsetBytes + ", length " + lengthBytes);
        }
    }

    private static MethodHandle require(Optional<MethodHandle> handle, String function, Path path)
            throws PosixException {
        return handle.orElseThrow(() -> new PosixException(path, function + " (not in this C library)", Errno.ENOSYS));
    }

    /** One native call, given an arena for its arguments. */
    @FunctionalInterface
    private interface NativeCall<T> {
        T run(Arena arena) throws Throwable;
    }

    /** Runs {@code body} while the descriptor is known to stay open. */
    private <T> T call(String call, NativeCall<T> body) throws IOException {
        closing.readLock().lock();
        try {
            if (closed) {
                throw new ClosedChannelException();
            }
            return downcall(call, body);
        } finally {
            closing.readLock().unlock();
        }
    }

    private static <T> T downcall(String call, NativeCall<T> body) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            return body.run(arena);
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError(call + " downcall", t);
        }
    }
}
