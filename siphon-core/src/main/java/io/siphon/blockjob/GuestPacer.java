package io.siphon.blockjob;

import io.siphon.block.filter.GuestIoStats;
import io.siphon.util.TimeSource;
import io.siphon.util.TokenBucket;

/**
 * Guest-aware pacing: a pull that yields to the disk's guest. Every window (200 ms) it compares
 * the guest's requests at the disk's front ({@link GuestIoStats}) with the window before. An idle
 * guest (fewer than {@value #MIN_BUSY_REQUESTS} completions and fewer than two in flight) lets the
 * pull run at the speed limit, or unlimited. When the guest becomes busy the pull stops for one
 * window (a probe) to measure the guest's latency and throughput without it, its idle p99 and
 * idle completions per second; from then on the rate halves whenever a window's p99 exceeds {@code
 * latencyFactor} × the idle p99 or its completions fall below {@value #KEPT_THROUGHPUT} of the
 * idle ones (what a guest with a fixed queue depth shows when it waits elsewhere, in the NBD server
 * or for a CPU, where the gate cannot time it), and grows by an eighth (at least 1 MiB/s) when
 * neither, as TCP's AIMD does, between {@value
 * #FLOOR_BYTES_PER_SECOND} bytes/s and the limit. The idle p99 is measured again after {@value
 * #REPROBE_NANOS} ns of busy time, since the guest's load changes. Not thread-safe except {@link
 * #setLimit} and {@link #limit}.
 */
final class GuestPacer implements CopyPacing {
    /** The default knob: the guest's p99 latency may grow by 30% over its idle p99. */
    static final double DEFAULT_LATENCY_FACTOR = 1.3;

    static final long WINDOW_NANOS = 200_000_000L;
    /** The share of its idle completions a busy guest keeps before the pull backs off. */
    static final double KEPT_THROUGHPUT = 0.9;

    static final long MIN_BUSY_REQUESTS = 16;
    static final long FLOOR_BYTES_PER_SECOND = 1L << 20;
    static final long REPROBE_NANOS = 10_000_000_000L;
    private static final long MIN_INCREASE_BYTES_PER_SECOND = 1L << 20;
    /** Where pacing starts when the pull was unlimited and copied nothing to measure. */
    private static final long START_BYTES_PER_SECOND = 32L << 20;

    private static final long MAX_BYTES_PER_SECOND = 1L << 40;

    /** What the pacer is doing. */
    enum Mode {
        /** Paused for a window to measure the guest's idle latency. */
        PROBING,
        /** The guest is idle: at the limit. */
        FREE,
        /** The guest is busy: at the rate its latency allows. */
        PACED
    }

    private final GuestIoStats guest;
    private final TimeSource time;
    private final double latencyFactor;
    private final TokenBucket bucket;
    private volatile long limitBytesPerSecond;
    private Mode mode = Mode.PROBING;
    private long windowStartNanos;
    private GuestIoStats.Snapshot windowStart;
    private long copiedInWindow;
    private long idleP99Nanos;
    private double idleCompletionsPerSecond;
    private long lastProbeNanos;
    private long pacedBytesPerSecond;

    /**
     * A pacer watching {@code guest}, capped at {@code limitBytesPerSecond} (0 = unlimited), that
     * keeps the guest's p99 latency within {@code latencyFactor} (&gt; 1) of its idle p99. It begins
     * with a probe.
     */
    GuestPacer(GuestIoStats guest, TimeSource time, long limitBytesPerSecond, double latencyFactor) {
        if (!(latencyFactor > 1)) {
            throw new IllegalArgumentException("latency factor must be above 1, got " + latencyFactor);
        }
        if (limitBytesPerSecond < 0) {
            throw new IllegalArgumentException("limit must not be negative, got " + limitBytesPerSecond);
        }
        this.guest = guest;
        this.time = time;
        this.latencyFactor = latencyFactor;
        this.limitBytesPerSecond = limitBytesPerSecond;
        this.bucket = new TokenBucket(time, limitBytesPerSecond, BURST_NANOS);
        this.windowStartNanos = time.nanoTime();
        this.windowStart = guest.snapshot();
        this.lastProbeNanos = windowStartNanos;
    }

    @Override
    public void charge(long bytes) {
        bucket.charge(bytes);
        copiedInWindow += bytes;
    }

    @Override
    public long delayNanos() {
        long now = time.nanoTime();
        if (now - windowStartNanos >= WINDOW_NANOS) {
            endWindow(now);
        }
        long windowLeft = windowStartNanos + WINDOW_NANOS - now;
        if (mode == Mode.PROBING) {
            return windowLeft;
        }
        applyRate();
        long delay = bucket.delayNanos();
        // wake up at the window's end at the latest: the rate may change then
        return delay == 0 ? 0 : Math.min(delay, windowLeft);
    }

    @Override
    public void setLimit(long bytesPerSecond) {
        if (bytesPerSecond < 0) {
            throw new IllegalArgumentException("limit must not be negative, got " + bytesPerSecond);
        }
        limitBytesPerSecond = bytesPerSecond;
    }

    @Override
    public long limit() {
        return limitBytesPerSecond;
    }

    Mode mode() {
        return mode;
    }

    /** The rate the pull may copy at now, in bytes per second; 0 = unlimited (and 0 while probing). */
    long rateBytesPerSecond() {
        return switch (mode) {
            case PROBING -> 0;
            case FREE -> limitBytesPerSecond;
            case PACED -> capped(pacedBytesPerSecond);
        };
    }

    /** The guest's p99 latency without the pull, as last measured; 0 before the first probe. */
    long idleP99Nanos() {
        return idleP99Nanos;
    }

    private void endWindow(long now) {
        GuestIoStats.Snapshot snapshot = guest.snapshot();
        long completed = snapshot.completedSince(windowStart);
        boolean busy = completed >= MIN_BUSY_REQUESTS || snapshot.inFlight() >= 2;
        long p99 = snapshot.latencyQuantileNanosSince(windowStart, 0.99);
        long copiedBytesPerSecond = (long) (copiedInWindow * 1e9 / (now - windowStartNanos));
        double completionsPerSecond = completed * 1e9 / (now - windowStartNanos);
        switch (mode) {
            case PROBING -> {
                if (busy) {
                    idleP99Nanos = p99;
                    idleCompletionsPerSecond = completionsPerSecond;
                    mode = Mode.PACED;
                    if (pacedBytesPerSecond == 0) {
                        pacedBytesPerSecond = limitBytesPerSecond > 0
                                ? Math.max(FLOOR_BYTES_PER_SECOND, limitBytesPerSecond / 2)
                                : START_BYTES_PER_SECOND;
                    }
                } else {
                    mode = Mode.FREE;
                }
            }
            case FREE -> {
                if (busy) {
                    // resume below what the pull took from the guest in this window, then probe
                    long base = limitBytesPerSecond > 0 ? limitBytesPerSecond : copiedBytesPerSecond;
                    pacedBytesPerSecond =
                            Math.max(FLOOR_BYTES_PER_SECOND, base > 0 ? base / 2 : START_BYTES_PER_SECOND);
                    startProbe(now);
                }
            }
            case PACED -> {
                if (!busy) {
                    mode = Mode.FREE;
                } else if (now - lastProbeNanos >= REPROBE_NANOS) {
                    startProbe(now);
                } else if (p99 > latencyFactor * idleP99Nanos
                        || completionsPerSecond < KEPT_THROUGHPUT * idleCompletionsPerSecond) {
                    pacedBytesPerSecond = Math.max(FLOOR_BYTES_PER_SECOND, capped(pacedBytesPerSecond) / 2);
                } else {
                    long grown = pacedBytesPerSecond + Math.max(MIN_INCREASE_BYTES_PER_SECOND, pacedBytesPerSecond / 8);
                    pacedBytesPerSecond = Math.min(MAX_BYTES_PER_SECOND, capped(grown));
                }
            }
            default -> throw new AssertionError(mode);
        }
        windowStart = snapshot;
        windowStartNanos = now;
        copiedInWindow = 0;
    }

    private void startProbe(long now) {
        mode = Mode.PROBING;
        lastProbeNanos = now;
    }

    private long capped(long bytesPerSecond) {
        long limit = limitBytesPerSecond;
        return limit > 0 ? Math.min(limit, bytesPerSecond) : bytesPerSecond;
    }

    private void applyRate() {
        long rate = rateBytesPerSecond();
        if (bucket.rate() != rate) {
            bucket.setRate(rate);
        }
    }
}
