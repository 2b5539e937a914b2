package io.siphon.util.posix;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.util.Optional;

/**
 * Downcall handles for the few Linux C library functions the JDK has no API for, each capturing
 * {@code errno}. Constants are Linux's (the same on x86-64 and arm64). Thread-safe: the handles are
 * immutable.
 */
final class LibC {
    static final int O_RDONLY = 0;
    static final int O_RDWR = 2;
    static final int O_CLOEXEC = 0x80000;

    static final int F_OFD_GETLK = 36;
    static final int F_OFD_SETLK = 37;
    static final short F_RDLCK = 0;
    static final short F_WRLCK = 1;
    static final short F_UNLCK = 2;
    static final short SEEK_SET = 0;

    static final int SEEK_DATA = 3;
    static final int SEEK_HOLE = 4;

    static final int FALLOC_FL_KEEP_SIZE = 0x01;
    static final int FALLOC_FL_PUNCH_HOLE = 0x02;
    static final int FALLOC_FL_ZERO_RANGE = 0x10;

    static final int AT_FDCWD = -100;
    static final int AT_EMPTY_PATH = 0x1000;
    static final int STATX_SIZE = 0x200;
    static final int STATX_BLOCKS = 0x400;

    /** {@code struct flock} on 64-bit Linux: l_type, l_whence, (pad), l_start, l_len, l_pid, (pad). */
    static final StructLayout FLOCK = MemoryLayout.structLayout(
            JAVA_SHORT.withName("l_type"),
            JAVA_SHORT.withName("l_whence"),
            MemoryLayout.paddingLayout(4),
            JAVA_LONG.withName("l_start"),
            JAVA_LONG.withName("l_len"),
            JAVA_INT.withName("l_pid"),
            MemoryLayout.paddingLayout(4));

    static final long FLOCK_TYPE = FLOCK.byteOffset(MemoryLayout.PathElement.groupElement("l_type"));
    static final long FLOCK_WHENCE = FLOCK.byteOffset(MemoryLayout.PathElement.groupElement("l_whence"));
    static final long FLOCK_START = FLOCK.byteOffset(MemoryLayout.PathElement.groupElement("l_start"));
    static final long FLOCK_LEN = FLOCK.byteOffset(MemoryLayout.PathElement.groupElement("l_len"));
    static final long FLOCK_PID = FLOCK.byteOffset(MemoryLayout.PathElement.groupElement("l_pid"));

    /** {@code struct statx} is 256 bytes with a layout fixed across architectures. */
    static final long STATX_BYTES = 256;

    static final long STATX_SIZE_OFFSET = 40;
    static final long STATX_BLOCKS_OFFSET = 48;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");

    // int open(const char *path, int flags, ...): the mode is variadic
    static final Optional<MethodHandle> OPEN = bind(
            "open",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT),
            CAPTURE_ERRNO,
            Linker.Option.firstVariadicArg(2));
    static final Optional<MethodHandle> CLOSE = bind("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT), CAPTURE_ERRNO);
    // int fcntl(int fd, int cmd, ...): the struct flock pointer is variadic
    static final Optional<MethodHandle> FCNTL = bind(
            "fcntl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS),
            CAPTURE_ERRNO,
            Linker.Option.firstVariadicArg(2));
    static final Optional<MethodHandle> FALLOCATE =
            bind("fallocate", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG), CAPTURE_ERRNO);
    static final Optional<MethodHandle> LSEEK =
            bind("lseek", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT), CAPTURE_ERRNO);
    static final Optional<MethodHandle> STATX = bind(
            "statx", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS), CAPTURE_ERRNO);

    private LibC() {}

    private static Optional<MethodHandle> bind(String name, FunctionDescriptor descriptor, Linker.Option... options) {
        return LINKER.defaultLookup().find(name).map(symbol -> LINKER.downcallHandle(symbol, descriptor, options));
    }

    /** A segment to pass as the capture-state argument of a call. */
    static MemorySegment captureState(Arena arena) {
        return arena.allocate(CAPTURE);
    }

    /** The errno a call stored into {@code state}. */
    static int errno(MemorySegment state) {
        return (int) ERRNO.get(state, 0L);
    }
}
