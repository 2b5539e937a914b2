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
        return new GuestPacer(guest, time, limit, GuestPacer.DEFAULT_LATENCY_FACTOR);
    }

    @Test
    void anIdleGuestLetsThePullRunUnlimitedAfterTheFirstProbe() {
        GuestPacer pacer = pacer(0);
        assertEquals(GuestPacer.Mode.PROBING, pacer.mode());
        assertEquals(GuestPacer.WINDOW_NANOS, pacer.delayNanos(), "the first window is a probe: no copying");
        assertEquals(0, nextWindow(pacer));
        assertEquals(GuestPacer.Mode.FREE, pacer.mode());
        pacer.charge(1L << 30);
        assertEquals(0, pacer.delayNanos(), "unlimited while the guest is idle");
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
    void aBusyGuestIsMeasuredWithoutThePullThenThePullBacksOffWhenItsLatencyGrows() {
        GuestPacer pacer = pacer(0);
        guestLoad(1000, IDLE_LATENCY);
        nextWindow(pacer);
        assertEquals(GuestPacer.Mode.PACED, pacer.mode());
        long idleP99 = pacer.idleP99Nanos();
        assertTrue(idleP99 >= IDLE_LATENCY && idleP99 < IDLE_LATENCY * 11 / 10, "idle p99 " + idleP99);
        long start = pacer.rateBytesPerSecond();
        assertTrue(start > 0, "a busy guest gets a finite rate: " + start);

        guestLoad(1000, IDLE_LATENCY * 2); // p99 at 2× idle: over the 1.3× target
        nextWindow(pacer);
        assertEquals(start / 2, pacer.rateBytesPerSecond());
        guestLoad(1000, IDLE_LATENCY * 3);
        nextWindow(pacer);
        assertEquals(start / 4, pacer.rateBytesPerSecond());
    }

    @Test
    void theRateGrowsWhileTheGuestStaysWithinItsTargetAndNeverFallsBelowTheFloor() {
        GuestPacer pacer = pacer(0);
        guestLoad(1000, IDLE_LATENCY);
        nextWindow(pacer);
        for (int i = 0; i < 20; i++) {
            guestLoad(1000, IDLE_LATENCY * 5);
            nextWindow(pacer);
        }
        assertEquals(GuestPacer.FLOOR_BYTES_PER_SECOND, pacer.rateBytesPerSecond());
        long previous = pacer.rateBytesPerSecond();
        for (int i = 0; i < 5; i++) {
            guestLoad(1000, IDLE_LATENCY * 12 / 10); // within 1.3×
            nextWindow(pacer);
            assertTrue(pacer.rateBytesPerSecond() > previous, "grows: " + pacer.rateBytesPerSecond());
            previous = pacer.rateBytesPerSecond();
        }
    }

    @Test
    void aGuestThatCompletesFewerRequestsThanWhenIdleMakesThePullBackOffToo() {
        GuestPacer pacer = pacer(0);
        guestLoad(1000, IDLE_LATENCY);
        nextWindow(pacer);
        long start = pacer.rateBytesPerSecond();
        guestLoad(850, IDLE_LATENCY); // as fast per request at the gate, but 15% fewer of them
        nextWindow(pacer);
        assertEquals(start / 2, pacer.rateBytesPerSecond());
        guestLoad(950, IDLE_LATENCY); // 95%: within what the guest keeps
        nextWindow(pacer);
        assertTrue(pacer.rateBytesPerSecond() > start / 2, "grows again: " + pacer.rateBytesPerSecond());
    }

    @Test
    void theLimitStaysAHardCapWhilePaced() {
        GuestPacer pacer = pacer(4 * MIB);
        guestLoad(1000, IDLE_LATENCY);
        nextWindow(pacer);
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
    void aGuestThatBecomesBusyIsProbedAgainAndOneThatGoesIdleFreesThePull() {
        GuestPacer pacer = pacer(0);
        nextWindow(pacer);
        assertEquals(GuestPacer.Mode.FREE, pacer.mode());
        pacer.charge(100 * MIB); // the pull ran at 500 MiB/s in this window
        guestLoad(1000, IDLE_LATENCY * 4); // and the guest started, suffering
        long delay = nextWindow(pacer);
        assertEquals(GuestPacer.Mode.PROBING, pacer.mode());
        assertEquals(GuestPacer.WINDOW_NANOS, delay, "a probe copies nothing for one window");
        guestLoad(1000, IDLE_LATENCY);
        nextWindow(pacer);
        assertEquals(GuestPacer.Mode.PACED, pacer.mode());
        assertEquals(250 * MIB, pacer.rateBytesPerSecond(), "half of what the pull took before the probe");

        guestLoad(3, IDLE_LATENCY); // a few requests: idle
        assertEquals(0, nextWindow(pacer));
        assertEquals(GuestPacer.Mode.FREE, pacer.mode());
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
    void theIdleLatencyIsMeasuredAgainAfterTenSecondsOfBusyGuest() {
        GuestPacer pacer = pacer(0);
        guestLoad(1000, IDLE_LATENCY);
        nextWindow(pacer);
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
    void badArgumentsAreRefusedWithTheirValue() {
        var factor = assertThrows(IllegalArgumentException.class, () -> new GuestPacer(guest, time, 0, 1.0));
        assertTrue(factor.getMessage().contains("1.0"), factor.getMessage());
        GuestPacer pacer = pacer(0);
        var limit = assertThrows(IllegalArgumentException.class, () -> pacer.setLimit(-5));
        assertTrue(limit.getMessage().contains("-5"), limit.getMessage());
    }
}
