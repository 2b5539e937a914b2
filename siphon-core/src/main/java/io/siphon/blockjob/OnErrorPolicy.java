package io.siphon.blockjob;

import java.util.Locale;

/** What a block job does when a copy fails, as QEMU's on-error option. Immutable. */
public enum OnErrorPolicy {
    /** Fail the job with the error (the default). */
    REPORT,
    /** Pause the job in an error state; resuming it retries the failed range. */
    STOP,
    /** Report the error and go on; the job then fails at the end, since the range was not copied. */
    IGNORE,
    /** As STOP when the disk is full (ENOSPC), else as REPORT: QEMU's {@code enospc}. */
    ENOSPC;

    /** The policy named as QEMU and libvirt spell it: report, stop, ignore or enospc. */
    public static OnErrorPolicy parse(String name) {
        for (OnErrorPolicy policy : values()) {
            if (policy.name().equalsIgnoreCase(name)) {
                return policy;
            }
        }
        throw new IllegalArgumentException("unknown on-error policy '" + name + "' (report, stop, ignore, enospc)");
    }

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
