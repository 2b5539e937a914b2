package io.siphon.api;

import java.util.Objects;

/**
 * How a pull runs besides its base and bandwidth: its pace, its order and what it does while a
 * remote template is unreachable. Immutable.
 */
public record PullStrategy(PullPace pace, PullOrder order, PullOutage outage) {
    /** At the bandwidth, in offset order, pausing through an outage. */
    public static final PullStrategy DEFAULT = new PullStrategy(PullPace.LIMIT, PullOrder.OFFSET, PullOutage.PAUSE);

    public PullStrategy {
        Objects.requireNonNull(pace, "pace");
        Objects.requireNonNull(order, "order");
        Objects.requireNonNull(outage, "outage");
    }

    /** The strategy Siphon's flags of a pull or rebase ask for; each unset flag takes the default. */
    static PullStrategy of(boolean paceGuest, boolean orderProfile, boolean failOnOutage) {
        return new PullStrategy(
                paceGuest ? PullPace.GUEST : PullPace.LIMIT,
                orderProfile ? PullOrder.PROFILE : PullOrder.OFFSET,
                failOnOutage ? PullOutage.FAIL : PullOutage.PAUSE);
    }
}
