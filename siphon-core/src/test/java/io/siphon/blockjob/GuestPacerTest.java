package io.siphon.blockjob;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.block.filter.GuestIoStats;
import io.siphon.util.FakeTimeSource;
import org.junit.jupiter.api.Test;

/** The guest-aware pacer under a scripted guest load and a fake clock. */
class GuestPacerTest {
    private static final long MIB = 1L << 20;
    private static final long IDLE_LATENCY = 100_000; // 100 µs

    private final FakeTimeSource time = new FakeTimeSource();
    private final GuestIoStats guest = new GuestIoStats();

    /** The guest completes {@code requests} requests of {@code latencyNanos} each in this window. */
    private void guestLoad(int requests, long latencyNanos) {
        for (int i = 0; i < requests; i++) {
            guest.started();
            guest.completed(latencyNanos);
        }
    }

    /** Ends the current window (the clock moves by one window) and asks the pacer for its delay. */
    private long nextWindow(GuestPacer pacer) {
        time.advance(GuestPacer.WINDOW_NANOS);
        return pacer.delayNanos();
    }

    private GuestPacer pacer(long limit) {
        return new GuestPacer(guest, time, limit, StreamOptions.Pace.DEFAULT_GUEST_LATENCY_FACTOR);
    }

    /** A pacer that has measured a busy guest of {@link #IDLE_LATENCY} and now paces it. */
    private GuestPacer paced(long limit) {
        GuestPacer pacer = pacer(limit);
        guestLoad(1000, IDLE_LATENCY);
        nextWindow(pacer);
        assertEquals(GuestPacer.Mode.PACED, pacer.mode());
        return pacer;
    }

    /** {@code windows} windows of a guest at 5× its idle latency: the rate halves in each from the second on. */
    private void suffer(GuestPacer pacer, int windows) {
        for (int i = 0; i < windows; i++) {
            guestLoad(1000, IDLE_LATENCY * 5);
            nextWindow(pacer);
        }
    }

    @Test
    void anIdleGuestLetsThePullRunUnlimitedAfterTheFirstProbe() {
        GuestPacer pacer = pacer(0);
        assertEquals(GuestPacer.Mode.PROBING, pacer.mode());
        long delay = pacer.delayNanos();
        assertTrue(delay > 0 && delay <= GuestPacer.WINDOW_NANOS, "the first window is a probe: no copying");
        assertEquals(0, nextWindow(pacer));
        assertEquals(GuestPacer.Mode.FREE, pacer.mode());
        pacer.charge(1L << 30);
        assertEquals(0, pacer.delayNanos(), "unlimited while the guest is idle");
        assertEquals(MIB, pacer.chunkBytes(MIB), "whole chunks while the guest is idle");
    }

    @Test
    void anIdleGuestLetsThePullRunAtItsLimitAndNoFaster() {
        GuestPacer pacer = pacer(10 * MIB);
        nextWindow(pacer);
        assertEquals(10 * MIB, pacer.rateBytesPerSecond());
        pacer.delayNanos();
        pacer.charge(10 * MIB);
        long delay = pacer.delayNanos();
        assertTrue(delay > 0 && delay <= GuestPacer.WINDOW_NANOS, "waits for the limit: " + delay);
    }

    @Test
    void aBusyGuestIsMeasuredWithoutThePullThenThePullBacksOffWhenItsP99StaysOverTarget() {
        GuestPacer pacer = paced(0);
        long idleP99 = pacer.idleP99Nanos();
        assertTrue(idleP99 >= IDLE_LATENCY && idleP99 < IDLE_LATENCY * 11 / 10, "idle p99 " + idleP99);
        long start = pacer.rateBytesPerSecond();
        assertTrue(start > 0, "a busy guest gets a finite rate: " + start);

        tailOverTarget();
        nextWindow(pacer);
        assertEquals(start, pacer.rateBytesPerSecond(), "one window over the p99 target: held, not grown");
        tailOverTarget();
        nextWindow(pacer);
        assertEquals(start / 2, pacer.rateBytesPerSecond(), "two in a row: halved");
        tailOverTarget();
        nextWindow(pacer);
        assertEquals(start / 4, pacer.rateBytesPerSecond());
        guestLoad(1000, IDLE_LATENCY);
        nextWindow(pacer);
        tailOverTarget();
        nextWindow(pacer);
        assertTrue(pacer.rateBytesPerSecond() > start / 4, "a lone window over, after one within: held");
    }

    /** A window whose requests take the idle latency, but whose slowest 2% take 3× as long. */
    private void tailOverTarget() {
        guestLoad(980, IDLE_LATENCY * 95 / 100);
        guestLoad(20, IDLE_LATENCY * 3);
    }

    @Test
    void aBusyGuestGetsSmallCopiesSoThatNoneHoldsTheDiskLong() {
        GuestPacer pacer = paced(0);
        assertEquals(GuestPacer.PACED_CHUNK_BYTES, pacer.chunkBytes(MIB));
        assertEquals(4096, pacer.chunkBytes(4096), "never more than the job's own chunk");
    }

    @Test
    void theRateGrowsWhileTheGuestStaysWithinItsTargetAndNeverFallsBelowTheFloor() {
        GuestPacer pacer = paced(0);
        suffer(pacer, 20);
        assertEquals(GuestPacer.FLOOR_BYTES_PER_SECOND, pacer.rateBytesPerSecond());
        long previous = pacer.rateBytesPerSecond();
        for (int i = 0; i < 5; i++) {
            guestLoad(1000, IDLE_LATENCY * 105 / 100); // within 1.3× at p99 and within 1/0.9 on average
            nextWindow(pacer);
            assertTrue(pacer.rateBytesPerSecond() > previous, "grows: " + pacer.rateBytesPerSecond());
            previous = pacer.rateBytesPerSecond();
        }
    }

    @Test
    void aGuestWhoseMeanLatencyGrowsByMoreThanItsKeptThroughputAllowsMakesThePullBackOff() {
        GuestPacer pacer = paced(0);
        long start = pacer.rateBytesPerSecond();
        // p99 within 1.3×, but every request 15% slower: at a fixed queue depth, 13% fewer of them
        guestLoad(1000, IDLE_LATENCY * 115 / 100);
        nextWindow(pacer);
        assertEquals(start, pacer.rateBytesPerSecond(), "one window over: held");
        guestLoad(1000, IDLE_LATENCY * 115 / 100);
        nextWindow(pacer);
        assertEquals(start / 2, pacer.rateBytesPerSecond(), "two in a row: halved");
        guestLoad(1000, IDLE_LATENCY * 105 / 100); // 5% slower: within what the guest keeps
        nextWindow(pacer);
        assertTrue(pacer.rateBytesPerSecond() > start / 2, "grows again: " + pacer.rateBytesPerSecond());
    }

    @Test
    void aGuestThatCompletesFewerRequestsAtItsIdleLatencyMakesThePullBackOff() {
        GuestPacer pacer = paced(0);
        long start = pacer.rateBytesPerSecond();
        // each request as fast as idle once it reaches the disk, but 15% fewer reach it: the
        // guest's own CPU or socket is what the pull slows, which the disk's latency cannot show
        guestLoad(850, IDLE_LATENCY);
        nextWindow(pacer);
        assertEquals(start, pacer.rateBytesPerSecond(), "one window over: held");
        guestLoad(850, IDLE_LATENCY);
        nextWindow(pacer);
        assertEquals(start / 2, pacer.rateBytesPerSecond(), "two in a row: halved");
        guestLoad(950, IDLE_LATENCY); // 95% of the idle throughput: within what the guest keeps
        nextWindow(pacer);
        assertTrue(pacer.rateBytesPerSecond() > start / 2, "grows again: " + pacer.rateBytesPerSecond());
    }

    @Test
    void theLimitStaysAHardCapWhilePaced() {
        GuestPacer pacer = paced(4 * MIB);
        for (int i = 0; i < 50; i++) {
            guestLoad(1000, IDLE_LATENCY);
            nextWindow(pacer);
            assertTrue(pacer.rateBytesPerSecond() <= 4 * MIB, "at most the limit: " + pacer.rateBytesPerSecond());
        }
        assertEquals(4 * MIB, pacer.rateBytesPerSecond());
        pacer.setLimit(2 * MIB);
        assertEquals(2 * MIB, pacer.rateBytesPerSecond(), "a lower limit applies at once");
    }

    @Test
    void aGuestThatBecomesBusyStopsAFreePullBeforeTheWindowEnds() {
        GuestPacer pacer = pacer(0);
        nextWindow(pacer);
        assertEquals(GuestPacer.Mode.FREE, pacer.mode());
        time.advance(5_000_000); // 5 ms into the window the guest starts
        guestLoad((int) GuestPacer.MIN_BUSY_REQUESTS, IDLE_LATENCY * 4);
        long delay = pacer.delayNanos();
        assertEquals(GuestPacer.Mode.PROBING, pacer.mode());
        assertTrue(delay > 0, "a probe copies nothing");
        guestLoad(1000, IDLE_LATENCY);
        nextWindow(pacer);
        assertEquals(GuestPacer.Mode.PACED, pacer.mode());
        assertEquals(GuestPacer.START_BYTES_PER_SECOND, pacer.rateBytesPerSecond());
    }

    @Test
    void aGuestThatGoesIdleFreesThePullWithinATick() {
        GuestPacer pacer = paced(0);
        time.advance(GuestPacer.IDLE_GAP_NANOS - 1);
        pacer.delayNanos();
        assertEquals(GuestPacer.Mode.PACED, pacer.mode(), "not yet: a gap shorter than the idle gap");
        time.advance(1);
        assertEquals(0, pacer.delayNanos(), "nothing started for the idle gap and nothing in flight");
        assertEquals(GuestPacer.Mode.FREE, pacer.mode());
        assertEquals(MIB, pacer.chunkBytes(MIB));
    }

    @Test
    void aPacedPullWaitsNoLongerThanATickBeforeItLooksAtTheGuestAgain() {
        GuestPacer pacer = paced(0);
        suffer(pacer, 20);
        pacer.charge(64 * MIB); // a debt of a minute at the floor
        guestLoad(10, IDLE_LATENCY);
        long delay = pacer.delayNanos();
        assertTrue(delay > 0 && delay <= GuestPacer.CHECK_NANOS, "wakes up to look: " + delay);
    }

    @Test
    void requestsStuckInFlightCountAsABusyGuest() {
        GuestPacer pacer = pacer(0);
        guest.started();
        guest.started();
        nextWindow(pacer);
        assertEquals(GuestPacer.Mode.PACED, pacer.mode());
    }

    @Test
    void aFewSlowRequestsThatKeepTheQueueFullCountAsABusyGuest() {
        GuestPacer pacer = pacer(0);
        guestLoad(4, GuestPacer.WINDOW_NANOS / 2); // 4 requests of 100 ms in 200 ms: queue depth 2
        nextWindow(pacer);
        assertEquals(GuestPacer.Mode.PACED, pacer.mode());
    }

    @Test
    void theIdleLatencyIsMeasuredAgainAfterTenSecondsOfBusyGuest() {
        GuestPacer pacer = paced(0);
        // ten seconds from the start of the first probe, which took the first window
        long windows = GuestPacer.REPROBE_NANOS / GuestPacer.WINDOW_NANOS - 1;
        for (long i = 0; i < windows; i++) {
            assertEquals(GuestPacer.Mode.PACED, pacer.mode(), "window " + i);
            guestLoad(1000, IDLE_LATENCY * 2); // the guest's own load got heavier
            nextWindow(pacer);
        }
        assertEquals(GuestPacer.Mode.PROBING, pacer.mode());
        guestLoad(1000, IDLE_LATENCY * 2);
        nextWindow(pacer);
        assertEquals(GuestPacer.Mode.PACED, pacer.mode());
        assertTrue(pacer.idleP99Nanos() >= IDLE_LATENCY * 2, "new idle p99 " + pacer.idleP99Nanos());
    }

    @Test
    void underSteadyLoadTheGuestKeepsNinetyPercentOfItsThroughputAndThePullStillMoves() {
        ScriptedDisk disk = new ScriptedDisk(pacer(0));
        long copied = disk.run(30_000, step -> true);
        double kept = disk.guestCompletions / (disk.idleCompletionsPerStep() * 30_000.0 / ScriptedDisk.STEP_MS);
        assertTrue(kept >= 0.9, "the guest kept " + kept + " of its idle throughput");
        assertTrue(copied >= 30 * GuestPacer.FLOOR_BYTES_PER_SECOND, "the pull moved: " + copied + " bytes");
    }

    @Test
    void underIntermittentLoadThePullRunsFreeThroughTheIdleGaps() {
        ScriptedDisk disk = new ScriptedDisk(pacer(0));
        // the guest is busy 2 s, idle 2 s; 40 s in all
        disk.run(40_000, ms -> (ms / 2000) % 2 == 0);
        long idleMs = 20_000;
        assertTrue(disk.freeIdleMs >= idleMs * 0.85, "free for " + disk.freeIdleMs + " ms of " + idleMs + " idle");
    }

    /**
     * A disk whose guest keeps 4 requests waiting on it when busy and whose latency grows with what
     * the pull copies in the same step (the two share the machine), driven in steps of 10 ms.
     */
    private final class ScriptedDisk {
        static final int STEP_MS = 10;
        /** What the pull may copy in a step when unhindered: 1 GiB/s. */
        static final long PULL_CAPACITY_PER_STEP = (1L << 30) / (1000 / STEP_MS);

        final GuestPacer pacer;
        long guestCompletions;
        long freeIdleMs;

        ScriptedDisk(GuestPacer pacer) {
            this.pacer = pacer;
        }

        double idleCompletionsPerStep() {
            return 4.0 * STEP_MS * 1_000_000 / IDLE_LATENCY;
        }

        /** Runs {@code ms} milliseconds of scripted time; returns the bytes the pull copied. */
        long run(long ms, java.util.function.LongPredicate busyAt) {
            long copied = 0;
            long copiedLastStep = 0;
            long waitUntil = 0;
            for (long at = 0; at < ms; at += STEP_MS) {
                boolean busy = busyAt.test(at);
                if (busy) {
                    // the pull's share of the step slows each guest request in proportion
                    double share = (double) copiedLastStep / PULL_CAPACITY_PER_STEP;
                    long latency = (long) (IDLE_LATENCY * (1 + 2 * share));
                    long requests = 4L * STEP_MS * 1_000_000 / latency;
                    guestLoad((int) requests, latency);
                    guestCompletions += requests;
                } else if (pacer.mode() == GuestPacer.Mode.FREE) {
                    freeIdleMs += STEP_MS;
                }
                long stepCopied = 0;
                long stepEnd = time.nanoTime() + STEP_MS * 1_000_000L;
                while (time.nanoTime() < stepEnd && stepCopied < PULL_CAPACITY_PER_STEP) {
                    if (time.nanoTime() < waitUntil) {
                        break;
                    }
                    long delay = pacer.delayNanos();
                    if (delay > 0) {
                        waitUntil = time.nanoTime() + delay;
                        break;
                    }
                    long chunk = pacer.chunkBytes(MIB);
                    pacer.charge(chunk);
                    stepCopied += chunk;
                }
                copied += stepCopied;
                copiedLastStep = stepCopied;
                time.advance(stepEnd - time.nanoTime());
            }
            return copied;
        }
    }

    @Test
    void badArgumentsAreRefusedWithTheirValue() {
        var factor = assertThrows(IllegalArgumentException.class, () -> new GuestPacer(guest, time, 0, 1.0));
        assertTrue(factor.getMessage().contains("1.0"), factor.getMessage());
        GuestPacer pacer = pacer(0);
        var limit = assertThrows(IllegalArgumentException.class, () -> pacer.setLimit(-5));
        assertTrue(limit.getMessage().contains("-5"), limit.getMessage());
    }
}
