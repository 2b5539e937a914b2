package io.siphon.api;

import java.util.Objects;

/**
 * A domain was defined, started, stopped or undefined; libvirt's {@code VIR_DOMAIN_EVENT_ID_LIFECYCLE}.
 *
 * @param domain the domain's name
 * @param kind what happened
 */
public record LifecycleEvent(String domain, Kind kind) implements SiphonEvent {
    public LifecycleEvent {
        Objects.requireNonNull(domain, "domain");
        Objects.requireNonNull(kind, "kind");
    }

    /** What happened to the domain. */
    public enum Kind {
        DEFINED,
        UNDEFINED,
        STARTED,
        /** Stopped cleanly: disks flushed and closed. */
        SHUTDOWN,
        /** Stopped at once: jobs cancelled, disks closed without flushing. */
        DESTROYED,
        /** Its process died (a QEMU crash or kill): the domain is shut off and its jobs failed. */
        CRASHED
    }
}
