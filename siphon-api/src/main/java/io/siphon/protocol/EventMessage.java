package io.siphon.protocol;

import java.util.Map;
import java.util.Objects;

/**
 * An asynchronous event: {@code {"event": NAME, "data": {...}, "timestamp": {"seconds": S,
 * "microseconds": US}}}.
 *
 * @param event the event's name (BLOCK_JOB, DOMAIN_LIFECYCLE)
 * @param data the event's members
 * @param timestampMicros when it happened, in microseconds since the epoch
 */
public record EventMessage(String event, Map<String, Object> data, long timestampMicros) implements Message {
    public EventMessage {
        Objects.requireNonNull(event, "event");
        Objects.requireNonNull(data, "data");
    }
}
