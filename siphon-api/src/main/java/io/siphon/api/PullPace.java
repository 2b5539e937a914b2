package io.siphon.api;

/** How a pull paces itself; the bandwidth stays a hard cap under either. */
public enum PullPace {
    /** At the bandwidth limit, or as fast as it can when unlimited. */
    LIMIT,
    /**
     * Yields to the guest: slows down while the guest's I/O latency at the disk grows over its idle
     * latency, and runs at the limit while the guest is idle.
     */
    GUEST
}
