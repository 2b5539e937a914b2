package io.siphon.block;

import static org.junit.jupiter.api.Assertions.fail;

import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;

/** Waits in tests for requests to queue on range locks, failing after a timeout instead of guessing a sleep. */
public final class Waiting {
    private static final long TIMEOUT_SECONDS = 10;

    private Waiting() {}

    /** Returns once {@code count} (e.g. a gate's waiting requests) reaches {@code expected}; fails after 10 s. */
    public static void untilCount(IntSupplier count, int expected, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_SECONDS);
        while (count.getAsInt() < expected) {
            if (System.nanoTime() >= deadline) {
                fail(what + ": " + count.getAsInt() + " after " + TIMEOUT_SECONDS + " s, expected " + expected);
            }
            Thread.sleep(1);
        }
    }
}
