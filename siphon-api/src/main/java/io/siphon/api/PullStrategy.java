package io.siphon.api;

import java.util.Objects;

/**
 * How a pull runs besides its base and bandwidth: its pace, its order and what it does while a
 * remote template is unreachable. Immutable.
 *
 * @param pace at the bandwidth, or yielding to the guest within it
 * @param guestLatencyFactor with {@link PullPace#GUEST}, how far the guest's p99 latency may grow
 *     over its idle p99 before the pull backs off (1.3: by 30%), in (1, {@value
 *     #MAX_GUEST_LATENCY_FACTOR}]; with {@link PullPace#LIMIT} the default
 * @param order offset order, or the template's access profile first
 * @param outage what the pull does while a remote template is unreachable
 */
public record PullStrategy(PullPace pace, double guestLatencyFactor, PullOrder order, PullOutage outage) {
    /** The guest's p99 latency may grow by 30% over its idle p99. */
    public static final double DEFAULT_GUEST_LATENCY_FACTOR = 1.3;
    /** Past 10× its idle latency a guest is not being yielded to. */
    public static final double MAX_GUEST_LATENCY_FACTOR = 10;

    /** At the bandwidth, in offset order, pausing through an outage. */
    public static final PullStrategy DEFAULT = new PullStrategy(PullPace.LIMIT, PullOrder.OFFSET, PullOutage.PAUSE);

    public PullStrategy {
        Objects.requireNonNull(pace, "pace");
        Objects.requireNonNull(order, "order");
        Objects.requireNonNull(outage, "outage");
        if (!(guestLatencyFactor > 1 && guestLatencyFactor <= MAX_GUEST_LATENCY_FACTOR)) {
            throw new SiphonException(
                    ErrorCode.INVALID_ARG,
                    "guest latency factor must be above 1 and at most " + (int) MAX_GUEST_LATENCY_FACTOR + ", is "
                            + guestLatencyFactor);
        }
        if (pace != PullPace.GUEST && guestLatencyFactor != DEFAULT_GUEST_LATENCY_FACTOR) {
            throw new SiphonException(
                    ErrorCode.INVALID_ARG, "a guest latency factor applies to a pull paced by the guest only");
        }
    }

    /** With the default guest latency factor. */
    public PullStrategy(PullPace pace, PullOrder order, PullOutage outage) {
        this(pace, DEFAULT_GUEST_LATENCY_FACTOR, order, outage);
    }

    /** The strategy Siphon's flags of a pull or rebase ask for; each unset flag takes the default. */
    static PullStrategy of(boolean paceGuest, boolean orderProfile, boolean failOnOutage) {
        return new PullStrategy(
                paceGuest ? PullPace.GUEST : PullPace.LIMIT,
                orderProfile ? PullOrder.PROFILE : PullOrder.OFFSET,
                failOnOutage ? PullOutage.FAIL : PullOutage.PAUSE);
    }

    /** This strategy, paced by the guest with {@code factor}. */
    PullStrategy withGuestLatencyFactor(double factor) {
        return new PullStrategy(pace, factor, order, outage);
    }
}
