package io.siphon.protocol;

import java.util.Objects;

/**
 * An asynchronous event: {@code {"event": NAME, "data": {...}, "timestamp": {"seconds": S,
 * "microseconds": US}}}.
 *
 * @param event the event, which names itself and holds the data
 * @param timestampMicros when it happened, in microseconds since the epoch
 */
public record EventMessage(Event event, long timestampMicros) implements Message {
    public EventMessage {
        Objects.requireNonNull(event, "event");
    }
}
