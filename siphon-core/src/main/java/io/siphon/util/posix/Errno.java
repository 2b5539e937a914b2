package io.siphon.util.posix;

import java.util.Map;

/** Names and meanings of the errno values the calls in this package can return on Linux. */
final class Errno {
    static final int EPERM = 1;
    static final int ENOENT = 2;
    static final int EINTR = 4;
    static final int ENXIO = 6;
    static final int EBADF = 9;
    static final int EAGAIN = 11;
    static final int EACCES = 13;
    static final int EISDIR = 21;
    static final int EINVAL = 22;
    static final int EFBIG = 27;
    static final int ENOSPC = 28;
    static final int ESPIPE = 29;
    static final int EROFS = 30;
    static final int ENOSYS = 38;
    static final int ENOLCK = 37;
    static final int EOPNOTSUPP = 95;

    private static final Map<Integer, String> DESCRIPTIONS = Map.ofEntries(
            Map.entry(EPERM, "EPERM (operation not permitted)"),
            Map.entry(ENOENT, "ENOENT (no such file or directory)"),
            Map.entry(EINTR, "EINTR (interrupted system call)"),
            Map.entry(ENXIO, "ENXIO (no such device or address)"),
            Map.entry(EBADF, "EBADF (bad file descriptor)"),
            Map.entry(EAGAIN, "EAGAIN (resource temporarily unavailable)"),
            Map.entry(EACCES, "EACCES (permission denied)"),
            Map.entry(EISDIR, "EISDIR (is a directory)"),
            Map.entry(EINVAL, "EINVAL (invalid argument)"),
            Map.entry(EFBIG, "EFBIG (file too large)"),
            Map.entry(ENOSPC, "ENOSPC (no space left on device)"),
            Map.entry(ESPIPE, "ESPIPE (illegal seek)"),
            Map.entry(EROFS, "EROFS (read-only file system)"),
            Map.entry(ENOLCK, "ENOLCK (no locks available)"),
            Map.entry(ENOSYS, "ENOSYS (function not implemented)"),
            Map.entry(EOPNOTSUPP, "EOPNOTSUPP (operation not supported)"));

    private Errno() {}

    /** "EAGAIN (resource temporarily unavailable)", or "errno 123" for values not listed. */
    static String describe(int errno) {
        return DESCRIPTIONS.getOrDefault(errno, "errno " + errno);
    }
}
