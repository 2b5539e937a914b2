package io.siphon.api;

/** Flags of {@link Domain#blockPull}; libvirt's {@code virDomainBlockPullFlags}. */
public enum PullFlag {
    /** The bandwidth is in bytes/s rather than MiB/s. */
    BANDWIDTH_BYTES,
    /** Pace the pull by the guest's I/O latency, within the bandwidth ({@link PullPace#GUEST}). */
    PACE_GUEST,
    /** Copy the template's hot clusters first ({@link PullOrder#PROFILE}). */
    ORDER_PROFILE,
    /** Fail rather than pause while a remote template is unreachable ({@link PullOutage#FAIL}). */
    FAIL_ON_OUTAGE
}
