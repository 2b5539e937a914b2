package io.siphon.api.spi;

import io.siphon.api.SiphonEvent;
import java.util.function.Consumer;

/**
 * What runs a state directory's domains in this process (the hypervisor role), shared by every
 * {@link EngineSession} on it: the {@link DomainOperations} and a subscription to every event,
 * without the per-connection parts (read-only gate, event delivery, close). Thread-safe.
 */
public interface DomainEngine extends DomainOperations {
    /** Subscribes to every event, delivered on the emitting thread; closing the result unsubscribes. */
    AutoCloseable subscribe(Consumer<SiphonEvent> subscriber);
}
