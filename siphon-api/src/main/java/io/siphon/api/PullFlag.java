package io.siphon.api;

/** Flags of {@link Domain#blockPull}; libvirt's {@code virDomainBlockPullFlags}. */
public enum PullFlag {
    /** The bandwidth is in bytes/s rather than MiB/s. */
    BANDWIDTH_BYTES
}
