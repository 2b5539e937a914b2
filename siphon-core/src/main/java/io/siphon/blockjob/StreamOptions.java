package io.siphon.blockjob;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * How a pull runs. Immutable.
 *
 * @param bytesPerSecond speed limit on the bytes the job copies; 0 = unlimited
 * @param base the image the pull stops at (it and what is below it stay the top's backing), or
 *     empty for a full pull
 * @param keepRelative store the new backing name relative to the top's directory (libvirt's
 *     --keep-relative), else absolute
 * @param onError what a failed copy does
 * @param chunkBytes how much one copy request moves at most (rounded up to the top's cluster size)
 * @param stepBytes how much data one {@code step()} copies (ranges skipped do not count)
 * @param pace whether the job only keeps to the speed limit or also yields to the guest
 * @param guestLatencyFactor under {@link Pace#GUEST}, how far the guest's p99 latency may grow over
 *     its idle p99 (1.3: by 30%) before the job backs off; in (1, {@value #MAX_GUEST_LATENCY_FACTOR}]
 * @param order the order in which the job copies
 * @param onOutage what an unreachable remote template does to the pull (by default it pauses)
 */
public record StreamOptions(
        long bytesPerSecond,
        Optional<Path> base,
        boolean keepRelative,
        OnErrorPolicy onError,
        long chunkBytes,
        long stepBytes,
        Pace pace,
        double guestLatencyFactor,
        Order order,
        OutagePolicy onOutage) {
    public static final long DEFAULT_CHUNK_BYTES = 1 << 20;
    public static final long DEFAULT_STEP_BYTES = 1 << 20;
    /** The guest's p99 latency may grow by 30% over its idle p99. */
    public static final double DEFAULT_GUEST_LATENCY_FACTOR = 1.3;
    /** Past 10× its idle latency a guest is not being yielded to. */
    public static final double MAX_GUEST_LATENCY_FACTOR = 10;

    /** How the job paces itself. */
    public enum Pace {
        /** At the speed limit (or as fast as it can when unlimited). */
        LIMIT,
        /** As fast as the guest's latency allows (see {@link GuestPacer}), never above the limit. */
        GUEST;

        /** The pace named in lower case ({@code limit}, {@code guest}). */
        public static Pace parse(String text) {
            return parseEnum(Pace.class, text, "pace");
        }

        @Override
        public String toString() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** The order in which the job copies the disk. */
    public enum Order {
        /** From offset 0 to the end. */
        OFFSET,
        /** The clusters of the template's access profile first, hottest first; then offset order. */
        PROFILE;

        /** The order named in lower case ({@code offset}, {@code profile}). */
        public static Order parse(String text) {
            return parseEnum(Order.class, text, "order");
        }

        @Override
        public String toString() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public StreamOptions {
        Objects.requireNonNull(base, "base");
        Objects.requireNonNull(onError, "onError");
        Objects.requireNonNull(pace, "pace");
        Objects.requireNonNull(order, "order");
        Objects.requireNonNull(onOutage, "onOutage");
        if (bytesPerSecond < 0) {
            throw new IllegalArgumentException("speed must not be negative, got " + bytesPerSecond + " bytes/s");
        }
        if (chunkBytes <= 0 || chunkBytes > 1 << 30) {
            throw new IllegalArgumentException("chunk size must be in (0, 1 GiB], got " + chunkBytes);
        }
        if (stepBytes <= 0) {
            throw new IllegalArgumentException("step size must be positive, got " + stepBytes);
        }
        if (!(guestLatencyFactor > 1 && guestLatencyFactor <= MAX_GUEST_LATENCY_FACTOR)) {
            throw new IllegalArgumentException(
                    "guest latency factor must be in (1, " + MAX_GUEST_LATENCY_FACTOR + "], got " + guestLatencyFactor);
        }
    }

    /** A full, unlimited pull in offset order that fails on the first error and pauses while a remote template is unreachable. */
    public static StreamOptions defaults() {
        return new StreamOptions(
                0,
                Optional.empty(),
                false,
                OnErrorPolicy.REPORT,
                DEFAULT_CHUNK_BYTES,
                DEFAULT_STEP_BYTES,
                Pace.LIMIT,
                DEFAULT_GUEST_LATENCY_FACTOR,
                Order.OFFSET,
                OutagePolicy.PAUSE);
    }

    public StreamOptions withSpeed(long newBytesPerSecond) {
        return new StreamOptions(
                newBytesPerSecond,
                base,
                keepRelative,
                onError,
                chunkBytes,
                stepBytes,
                pace,
                guestLatencyFactor,
                order,
                onOutage);
    }

    public StreamOptions withBase(Path newBase, boolean newKeepRelative) {
        return new StreamOptions(
                bytesPerSecond,
                Optional.of(newBase),
                newKeepRelative,
                onError,
                chunkBytes,
                stepBytes,
                pace,
                guestLatencyFactor,
                order,
                onOutage);
    }

    public StreamOptions withOnError(OnErrorPolicy policy) {
        return new StreamOptions(
                bytesPerSecond,
                base,
                keepRelative,
                policy,
                chunkBytes,
                stepBytes,
                pace,
                guestLatencyFactor,
                order,
                onOutage);
    }

    public StreamOptions withChunkBytes(long newChunkBytes) {
        return new StreamOptions(
                bytesPerSecond,
                base,
                keepRelative,
                onError,
                newChunkBytes,
                stepBytes,
                pace,
                guestLatencyFactor,
                order,
                onOutage);
    }

    public StreamOptions withStepBytes(long newStepBytes) {
        return new StreamOptions(
                bytesPerSecond,
                base,
                keepRelative,
                onError,
                chunkBytes,
                newStepBytes,
                pace,
                guestLatencyFactor,
                order,
                onOutage);
    }

    public StreamOptions withPace(Pace newPace) {
        return new StreamOptions(
                bytesPerSecond,
                base,
                keepRelative,
                onError,
                chunkBytes,
                stepBytes,
                newPace,
                guestLatencyFactor,
                order,
                onOutage);
    }

    /** Yields to the guest, keeping its p99 latency within {@code latencyFactor} × its idle p99. */
    public StreamOptions withGuestPace(double latencyFactor) {
        return new StreamOptions(
                bytesPerSecond,
                base,
                keepRelative,
                onError,
                chunkBytes,
                stepBytes,
                Pace.GUEST,
                latencyFactor,
                order,
                onOutage);
    }

    public StreamOptions withOrder(Order newOrder) {
        return new StreamOptions(
                bytesPerSecond,
                base,
                keepRelative,
                onError,
                chunkBytes,
                stepBytes,
                pace,
                guestLatencyFactor,
                newOrder,
                onOutage);
    }

    public StreamOptions withOnOutage(OutagePolicy policy) {
        return new StreamOptions(
                bytesPerSecond,
                base,
                keepRelative,
                onError,
                chunkBytes,
                stepBytes,
                pace,
                guestLatencyFactor,
                order,
                policy);
    }

    private static <E extends Enum<E>> E parseEnum(Class<E> type, String text, String what) {
        for (E value : type.getEnumConstants()) {
            if (value.name().equalsIgnoreCase(text)) {
                return value;
            }
        }
        throw new IllegalArgumentException("unknown " + what + " '" + text + "'");
    }
}
