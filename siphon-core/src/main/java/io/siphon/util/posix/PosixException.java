package io.siphon.util.posix;

import java.io.IOException;
import java.nio.file.Path;

/** A C library call on a file that failed: names the file, the call and the errno. */
public final class PosixException extends IOException {
    private final Path file;
    private final String call;
    private final int errno;

    PosixException(Path file, String call, int errno) {
        super(file + ": " + call + " failed: " + Errno.describe(errno));
        this.file = file;
        this.call = call;
        this.errno = errno;
    }

    /** The file the call was made on. */
    public Path file() {
        return file;
    }

    /** The call as written in the message, such as {@code fcntl(F_OFD_SETLK)}. */
    public String call() {
        return call;
    }

    /** Linux's errno value. */
    public int errno() {
        return errno;
    }
}
