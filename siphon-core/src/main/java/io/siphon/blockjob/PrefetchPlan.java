package io.siphon.blockjob;

import java.util.List;
import java.util.Objects;

/**
 * What a pull copies before it walks the disk in offset order: ranges of {@code unitBytes} at the
 * given offsets, in the order given (an access profile's clusters, hottest first). The pull asks
 * for the next range until there is none, then its phase is {@link Phase#OFFSET}. The phase may be
 * read from any thread; the rest belongs to the job's thread.
 */
public final class PrefetchPlan {
    /** Which part of its work a pull is in. */
    public enum Phase {
        /** Copying the plan's ranges. */
        PROFILE,
        /** Walking the disk from offset 0 to the end. */
        OFFSET
    }

    private final long unitBytes;
    private final long[] offsetsBytes;
    private int next;
    private volatile Phase phase;

    private PrefetchPlan(long unitBytes, long[] offsetsBytes) {
        if (unitBytes <= 0) {
            throw new IllegalArgumentException("prefetch unit must be positive, got " + unitBytes);
        }
        this.unitBytes = unitBytes;
        this.offsetsBytes = offsetsBytes;
        this.phase = offsetsBytes.length > 0 ? Phase.PROFILE : Phase.OFFSET;
    }

    /** No prefetch: offset order from the start. */
    public static PrefetchPlan none() {
        return new PrefetchPlan(1, new long[0]);
    }

    /** Ranges of {@code unitBytes} at {@code offsetsBytes}, copied in that order first. */
    public static PrefetchPlan of(long unitBytes, List<Long> offsetsBytes) {
        Objects.requireNonNull(offsetsBytes, "offsetsBytes");
        return new PrefetchPlan(
                unitBytes, offsetsBytes.stream().mapToLong(Long::longValue).toArray());
    }

    public Phase phase() {
        return phase;
    }

    /** How long each range is, in bytes. */
    long unitBytes() {
        return unitBytes;
    }

    /** Whether a range is left; when none is, the phase becomes {@link Phase#OFFSET}. */
    boolean hasNext() {
        if (next < offsetsBytes.length) {
            return true;
        }
        phase = Phase.OFFSET;
        return false;
    }

    /** The offset of the next range; moves past it. */
    long next() {
        return offsetsBytes[next++];
    }

    /** How many ranges the plan holds. */
    public int size() {
        return offsetsBytes.length;
    }
}
