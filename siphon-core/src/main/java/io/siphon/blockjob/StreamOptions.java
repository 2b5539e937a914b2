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
 * @param pace whether the job only keeps to the speed limit or also yields to the guest, and how far
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
        Order order,
        OutagePolicy onOutage) {
    public static final long DEFAULT_CHUNK_BYTES = 1 << 20;
    public static final long DEFAULT_STEP_BYTES = 1 << 20;

    /**
     * How the job paces itself: at the speed limit (or as fast as it can when unlimited), or also
     * yielding to the guest ({@link GuestPacer}), never above the limit, backing off while the
     * guest's p99 latency is over {@code guestLatencyFactor} × its idle p99. Immutable.
     *
     * @param yieldsToGuest whether the job watches the guest's I/O and backs off when it is busy
     * @param guestLatencyFactor how far the guest's p99 may grow (1.3: by 30%), in (1, {@value
     *     #MAX_GUEST_LATENCY_FACTOR}]; {@link #DEFAULT_GUEST_LATENCY_FACTOR} when the job does not yield
     */
    public record Pace(boolean yieldsToGuest, double guestLatencyFactor) {
        public static final double DEFAULT_GUEST_LATENCY_FACTOR = 1.3;
        /** Past 10× its idle latency a guest is not being yielded to. */
        public static final double MAX_GUEST_LATENCY_FACTOR = 10;

        public static final Pace LIMIT = new Pace(false, DEFAULT_GUEST_LATENCY_FACTOR);
        public static final Pace GUEST = new Pace(true, DEFAULT_GUEST_LATENCY_FACTOR);

        /** The words the daemon's job records use. */
        private static final String LIMIT_WORD = "limit";

        private static final String GUEST_WORD = "guest";

        public Pace {
            if (!(guestLatencyFactor > 1 && guestLatencyFactor <= MAX_GUEST_LATENCY_FACTOR)) {
                throw new IllegalArgumentException("guest latency factor must be in (1, " + MAX_GUEST_LATENCY_FACTOR
                        + "], got " + guestLatencyFactor);
            }
        }

        /** Yields to the guest, keeping its p99 latency within {@code latencyFactor} × its idle p99. */
        public static Pace guest(double latencyFactor) {
            return new Pace(true, latencyFactor);
        }

        /** {@code limit} or {@code guest}. */
        public String word() {
            return yieldsToGuest ? GUEST_WORD : LIMIT_WORD;
        }

        /** The pace {@code word} ({@code limit}, {@code guest}) names, with {@code latencyFactor}. */
        public static Pace parse(String word, double latencyFactor) {
            return switch (word) {
                case LIMIT_WORD -> new Pace(false, latencyFactor);
                case GUEST_WORD -> new Pace(true, latencyFactor);
                default -> throw new IllegalArgumentException("pace is limit or guest, got '" + word + "'");
            };
        }

        @Override
        public String toString() {
            return yieldsToGuest ? GUEST_WORD + " (p99 within " + guestLatencyFactor + "x idle)" : LIMIT_WORD;
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
                Order.OFFSET,
                OutagePolicy.PAUSE);
    }

    public StreamOptions withSpeed(long newBytesPerSecond) {
        return new StreamOptions(
                newBytesPerSecond, base, keepRelative, onError, chunkBytes, stepBytes, pace, order, onOutage);
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
                order,
                onOutage);
    }

    public StreamOptions withOnError(OnErrorPolicy policy) {
        return new StreamOptions(
                bytesPerSecond, base, keepRelative, policy, chunkBytes, stepBytes, pace, order, onOutage);
    }

    public StreamOptions withChunkBytes(long newChunkBytes) {
        return new StreamOptions(
                bytesPerSecond, base, keepRelative, onError, newChunkBytes, stepBytes, pace, order, onOutage);
    }

    public StreamOptions withStepBytes(long newStepBytes) {
        return new StreamOptions(
                bytesPerSecond, base, keepRelative, onError, chunkBytes, newStepBytes, pace, order, onOutage);
    }

    public StreamOptions withPace(Pace newPace) {
        return new StreamOptions(
                bytesPerSecond, base, keepRelative, onError, chunkBytes, stepBytes, newPace, order, onOutage);
    }

    public StreamOptions withOrder(Order newOrder) {
        return new StreamOptions(
                bytesPerSecond, base, keepRelative, onError, chunkBytes, stepBytes, pace, newOrder, onOutage);
    }

    public StreamOptions withOnOutage(OutagePolicy policy) {
        return new StreamOptions(
                bytesPerSecond, base, keepRelative, onError, chunkBytes, stepBytes, pace, order, policy);
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
