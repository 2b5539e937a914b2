package io.siphon.util;

import java.util.Locale;

/**
 * Whether an I/O failure is a full disk (ENOSPC, or a quota: EDQUOT), which QEMU tells apart from
 * other errors: its {@code enospc} error policy pauses on it and reports the rest, and NBD answers
 * it with its own error code. The JDK reports both only in the message ("No space left on device",
 * "Disk quota exceeded"); the posix calls say "ENOSPC". Stateless.
 */
public final class NoSpace {
    private NoSpace() {}

    /** Whether {@code failure} or one of its causes says the disk is full. */
    public static boolean is(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            String message = String.valueOf(t.getMessage()).toLowerCase(Locale.ROOT);
            if (message.contains("no space left")
                    || message.contains("disk quota exceeded")
                    || message.contains("enospc")) {
                return true;
            }
        }
        return false;
    }
}
