package io.siphon.blockjob;

import io.siphon.block.filter.GuestIoStats;
import io.siphon.util.TimeSource;
import io.siphon.util.TokenBucket;

/**
 * Guest-aware pacing: a pull that yields to the disk's guest, watching its requests where they enter
 * ({@link GuestIoStats}: in the daemon, the NBD server, from a request's arrival to its reply
 * written). Every window (200 ms) it compares the guest's requests with the window before.
 *
 * <ul>
 *   <li>An idle guest (fewer than {@value #MIN_BUSY_REQUESTS} completions, a mean queue depth below
 *       {@value #BUSY_QUEUE_DEPTH} and fewer than two in flight) lets the pull run at the speed
 *       limit, or unlimited, in whole chunks ({@link Mode#FREE}).
 *   <li>A guest that becomes busy is seen before the window ends (it starts {@value
 *       #MIN_BUSY_REQUESTS} requests, or two run at once): the pull stops for one window (a probe)
 *       to measure the guest without it, its idle p99 and mean latency.
 *   <li>Then it copies small chunks ({@value #PACED_CHUNK_BYTES} bytes, or a cluster if larger, so
 *       that no copy holds the disk long) at a rate that halves when two windows in a row are over a
 *       target (one such window is as often the shared machine's noise as the pull), is held
 *       after one, and grows by an eighth (at least 1 MiB/s) after one within all. The targets:
 *       a p99 within {@code latencyFactor} × the idle p99; a mean latency within the idle one ×
 *       1 / {@value #KEPT_THROUGHPUT} (a guest with a fixed queue depth completes in proportion
 *       to 1 / latency); and at least {@value #KEPT_THROUGHPUT} of the requests per second the
 *       guest completed idle. The last is what a guest with a fixed queue depth feels: the time
 *       its requests spend before they reach the server (its own CPU, taken by the pull on a small
 *       machine, and the socket) is not in the latency measured here, but slows its completions.
 *       As TCP's AIMD, between {@value #FLOOR_BYTES_PER_SECOND} bytes/s and the limit ({@link
 *       Mode#PACED}). The idle figures are
 *       measured again after {@value #REPROBE_NANOS} ns of busy guest, since its load changes.
 *   <li>A guest that goes idle frees the pull within a window: when no request of it has run for
 *       {@value #IDLE_GAP_NANOS} ns, or at the window's end.
 * </ul>
 *
 * Not thread-safe except {@link #setLimit} and {@link #limit}.
 */
final class GuestPacer implements CopyPacing {
    static final long WINDOW_NANOS = 200_000_000L;
    /** The share of its idle throughput a busy guest keeps before the pull backs off. */
    static final double KEPT_THROUGHPUT = 0.9;

    static final long MIN_BUSY_REQUESTS = 16;
    /** A guest that keeps this many requests waiting on average (Little's law) is busy however few. */
    static final double BUSY_QUEUE_DEPTH = 0.5;
    /** A guest with nothing in flight and nothing started for this long has gone idle. */
    static final long IDLE_GAP_NANOS = 50_000_000L;
    /** The longest the pull waits before it looks at the guest again. */
    static final long CHECK_NANOS = IDLE_GAP_NANOS;

    static final long PACED_CHUNK_BYTES = 64 << 10;
    /** A short burst: chunks saved up while the pull waited must not go at the guest back to back. */
    private static final long PACED_BURST_NANOS = 20_000_000L;

    static final long FLOOR_BYTES_PER_SECOND = 1L << 20;
    static final long REPROBE_NANOS = 10_000_000_000L;
    private static final long MIN_INCREASE_BYTES_PER_SECOND = 1L << 20;
    /** Where pacing starts the first time, when the pull is unlimited. */
    static final long START_BYTES_PER_SECOND = 32L << 20;

    private static final long MAX_BYTES_PER_SECOND = 1L << 40;

    /** What the pacer is doing. */
    enum Mode {
        /** Paused for a window to measure the guest without the pull. */
        PROBING,
        /** The guest is idle: at the limit, whole chunks. */
        FREE,
        /** The guest is busy: small chunks at the rate its latency allows. */
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
    private long idleP99Nanos;
    private long idleMeanNanos;
    private double idleRequestsPerSecond;
    private long lastProbeNanos;
    private long pacedBytesPerSecond;
    /** Whether the last window was over a target: a second one in a row backs off. */
    private boolean wasOver;
    /** The guest's started count when last looked at, and when it last changed. */
    private long seenStarted;

    private long seenStartedNanos;

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
        this.bucket = new TokenBucket(time, limitBytesPerSecond, PACED_BURST_NANOS);
        this.windowStartNanos = time.nanoTime();
        this.windowStart = guest.snapshot();
        this.lastProbeNanos = windowStartNanos;
        this.seenStarted = windowStart.started();
        this.seenStartedNanos = windowStartNanos;
    }

    @Override
    public void charge(long bytes) {
        bucket.charge(bytes);
    }

    @Override
    public long delayNanos() {
        long now = time.nanoTime();
        long started = guest.startedCount();
        if (started != seenStarted) {
            seenStarted = started;
            seenStartedNanos = now;
        }
        if (now - windowStartNanos >= WINDOW_NANOS) {
            endWindow(now);
        } else if (mode == Mode.FREE && becameBusy(started)) {
            startProbe(now);
        } else if (mode != Mode.FREE && wentIdle(now)) {
            mode = Mode.FREE;
            startWindow(now, guest.snapshot());
        }
        long windowLeft = windowStartNanos + WINDOW_NANOS - now;
        long check = Math.min(windowLeft, CHECK_NANOS);
        if (mode == Mode.PROBING) {
            return check;
        }
        applyRate();
        long delay = bucket.delayNanos();
        // look at the guest again soon: the rate or the mode may change
        return delay == 0 ? 0 : Math.min(delay, check);
    }

    /** Small chunks while the guest is busy, so that a copy never holds the disk long. */
    @Override
    public long chunkBytes(long preferredBytes) {
        return mode == Mode.FREE ? preferredBytes : Math.min(preferredBytes, PACED_CHUNK_BYTES);
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

    /** The guest's p99 latency without the pull, as last measured; 0 before the first busy probe. */
    long idleP99Nanos() {
        return idleP99Nanos;
    }

    /** Within a window of a free pull: the guest started enough requests, or runs two at once. */
    private boolean becameBusy(long started) {
        return started - windowStart.started() >= MIN_BUSY_REQUESTS || guest.inFlight() >= 2;
    }

    /** Nothing of the guest runs, and nothing started for a while. */
    private boolean wentIdle(long now) {
        return now - seenStartedNanos >= IDLE_GAP_NANOS && guest.inFlight() == 0;
    }

    private void endWindow(long now) {
        GuestIoStats.Snapshot snapshot = guest.snapshot();
        long elapsed = now - windowStartNanos;
        long completed = snapshot.completedSince(windowStart);
        boolean busy = completed >= MIN_BUSY_REQUESTS
                || snapshot.meanQueueDepthSince(windowStart, elapsed) >= BUSY_QUEUE_DEPTH
                || snapshot.inFlight() >= 2;
        long p99 = snapshot.latencyQuantileNanosSince(windowStart, 0.99);
        long mean = snapshot.meanLatencyNanosSince(windowStart);
        switch (mode) {
            case PROBING -> {
                if (busy) {
                    idleP99Nanos = p99;
                    idleMeanNanos = mean;
                    idleRequestsPerSecond = perSecond(completed, elapsed);
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
                    startProbe(now);
                    return;
                }
            }
            case PACED -> {
                if (!busy) {
                    mode = Mode.FREE;
                } else if (now - lastProbeNanos >= REPROBE_NANOS) {
                    startProbe(now);
                    return;
                } else {
                    boolean over = p99 > latencyFactor * idleP99Nanos
                            || mean > idleMeanNanos / KEPT_THROUGHPUT
                            || perSecond(completed, elapsed) < KEPT_THROUGHPUT * idleRequestsPerSecond;
                    if (over && wasOver) {
                        pacedBytesPerSecond = Math.max(FLOOR_BYTES_PER_SECOND, capped(pacedBytesPerSecond) / 2);
                    } else if (!over) {
                        long grown =
                                pacedBytesPerSecond + Math.max(MIN_INCREASE_BYTES_PER_SECOND, pacedBytesPerSecond / 8);
                        pacedBytesPerSecond = Math.min(MAX_BYTES_PER_SECOND, capped(grown));
                    }
                    wasOver = over;
                }
            }
            default -> throw new AssertionError(mode);
        }
        startWindow(now, snapshot);
    }

    /** The pull stops for a window from now, which measures the guest without it. */
    private void startProbe(long now) {
        mode = Mode.PROBING;
        wasOver = false;
        lastProbeNanos = now;
        startWindow(now, guest.snapshot());
    }

    private void startWindow(long now, GuestIoStats.Snapshot snapshot) {
        windowStart = snapshot;
        windowStartNanos = now;
    }

    private static double perSecond(long count, long elapsedNanos) {
        return count * 1e9 / Math.max(1, elapsedNanos);
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
