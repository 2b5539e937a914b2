package io.siphon.api;

/** Flags of {@link Domain#blockJobSetSpeed}; libvirt's {@code virDomainBlockJobSetSpeedFlags}. */
public enum SpeedFlag {
    /** The bandwidth is in bytes/s rather than MiB/s. */
    BANDWIDTH_BYTES
}
