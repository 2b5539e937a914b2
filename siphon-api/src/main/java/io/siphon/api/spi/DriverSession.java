package io.siphon.api.spi;

import io.siphon.api.SiphonEvent;
import java.util.function.Consumer;

/**
 * One open connection of a driver: the {@link DomainOperations}, a read-only flag and an event
 * sink. Implementations are thread-safe and report every failure as a {@link
 * io.siphon.api.SiphonException}.
 */
public interface DriverSession extends DomainOperations, AutoCloseable {
    /** Whether this session may only query. */
    boolean isReadOnly();

    /** Sets where this session delivers events; called once, before any other call. */
    void setEventSink(Consumer<SiphonEvent> sink);

    /** Ends the session; idempotent. */
    @Override
    void close();
}
