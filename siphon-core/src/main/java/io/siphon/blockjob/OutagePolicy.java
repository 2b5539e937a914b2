package io.siphon.blockjob;

import java.time.Duration;
import java.util.Objects;

/**
 * What a pull does when a remote template stays unreachable past its read timeout: pause (status
 * paused, an error event, the reason in the job's info) and retry the range every {@code
 * probeInterval}, resuming by itself when the store answers; or treat it as any error (the on-error
 * policy). Immutable.
 *
 * @param pause pause on an outage rather than apply the on-error policy
 * @param probeInterval how often a paused pull tries the range again
 */
public record OutagePolicy(boolean pause, Duration probeInterval) {
    /** Pause, and try again every second. */
    public static final OutagePolicy PAUSE = new OutagePolicy(true, Duration.ofSeconds(1));
    /** An outage is an error like any other. */
    public static final OutagePolicy ON_ERROR = new OutagePolicy(false, Duration.ofSeconds(1));

    /** The words the CLI and the daemon's job records use: {@code pause}, {@code fail}. */
    public static final String PAUSE_WORD = "pause";

    public static final String FAIL_WORD = "fail";

    public OutagePolicy {
        Objects.requireNonNull(probeInterval, "probeInterval");
        if (probeInterval.isNegative() || probeInterval.isZero()) {
            throw new IllegalArgumentException("probe interval must be positive, got " + probeInterval);
        }
    }

    /** {@code pause} or {@code fail}. */
    public String word() {
        return pause ? PAUSE_WORD : FAIL_WORD;
    }

    /** The policy {@code word} ({@code pause}, {@code fail}) names, probing every {@code probeInterval}. */
    public static OutagePolicy parse(String word, Duration probeInterval) {
        return switch (word) {
            case PAUSE_WORD -> new OutagePolicy(true, probeInterval);
            case FAIL_WORD -> new OutagePolicy(false, probeInterval);
            default -> throw new IllegalArgumentException("outage policy is pause or fail, got '" + word + "'");
        };
    }
}
