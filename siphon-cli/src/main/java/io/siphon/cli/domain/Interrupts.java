package io.siphon.cli.domain;

import java.util.concurrent.atomic.AtomicBoolean;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * Catches Ctrl-C (SIGINT) while a command waits for a job, so that the command can abort the job and
 * report it as virsh does instead of the JVM exiting; the previous handler returns on close.
 * Thread-safe.
 */
final class Interrupts implements AutoCloseable {
    private static final Signal INT = new Signal("INT");
    private final AtomicBoolean caught = new AtomicBoolean();
    private final SignalHandler previous;

    private Interrupts() {
        previous = Signal.handle(INT, signal -> caught.set(true));
    }

    /** Starts catching SIGINT. */
    static Interrupts catchInterrupt() {
        return new Interrupts();
    }

    /** Whether Ctrl-C was pressed since this was made. */
    boolean caught() {
        return caught.get();
    }

    @Override
    public void close() {
        Signal.handle(INT, previous);
    }
}
