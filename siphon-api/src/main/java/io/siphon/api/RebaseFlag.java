package io.siphon.api;

/** Flags of {@link Domain#blockRebase}; the subset of libvirt's {@code virDomainBlockRebaseFlags} a pull uses. */
public enum RebaseFlag {
    /** Keep the backing name relative ({@code VIR_DOMAIN_BLOCK_REBASE_RELATIVE}): the top records the base as the chain named it. */
    KEEP_RELATIVE,
    /** The bandwidth is in bytes/s rather than MiB/s. */
    BANDWIDTH_BYTES,
    /** Pace the pull by the guest's I/O latency, within the bandwidth ({@link PullPace#GUEST}). */
    PACE_GUEST,
    /** Copy the template's hot clusters first ({@link PullOrder#PROFILE}). */
    ORDER_PROFILE,
    /** Fail rather than pause while a remote template is unreachable ({@link PullOutage#FAIL}). */
    FAIL_ON_OUTAGE
}
