package io.siphon.daemon;

import io.siphon.api.SiphonEvent;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Fans events out to subscribers on the emitting thread; subscribers must not block. Thread-safe. */
final class EventHub {
    private static final Logger LOG = LoggerFactory.getLogger(EventHub.class);

    private final List<Consumer<SiphonEvent>> subscribers = new CopyOnWriteArrayList<>();

    /** Subscribes; closing the result unsubscribes. */
    AutoCloseable subscribe(Consumer<SiphonEvent> subscriber) {
        subscribers.add(subscriber);
        return () -> subscribers.remove(subscriber);
    }

    void emit(SiphonEvent event) {
        LOG.debug("event {}", event);
        for (Consumer<SiphonEvent> subscriber : subscribers) {
            try {
                subscriber.accept(event);
            } catch (RuntimeException e) {
                LOG.warn("event subscriber failed on {}", event, e);
            }
        }
    }
}
