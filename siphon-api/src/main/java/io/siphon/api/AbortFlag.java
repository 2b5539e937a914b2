package io.siphon.api;

/** Flags of {@link Domain#blockJobAbort}; libvirt's {@code virDomainBlockJobAbortFlags}. */
public enum AbortFlag {
    /** Return at once instead of waiting until the job has ended. */
    ASYNC
}
