package io.siphon.daemon;

import io.siphon.api.spi.DriverSession;

/** Opens the driver session one control-protocol client works through. Thread-safe. */
@FunctionalInterface
interface SessionFactory {
    /**
     * A session for one client; {@code onOverflow} runs when the client reads its events too slowly
     * (drivers that do not bound their event queue never call it).
     */
    DriverSession open(boolean readOnly, Runnable onOverflow);
}
