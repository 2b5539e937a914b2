package io.siphon.qemu.qmp;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.util.Objects;

/**
 * An asynchronous QMP event ({@code {"event": NAME, "data": {...}, "timestamp": {...}}}).
 *
 * @param name the event's name, e.g. {@code BLOCK_JOB_COMPLETED}
 * @param data its data object (empty when QEMU sent none)
 * @param timestamp when QEMU emitted it
 */
public record QmpEvent(String name, JsonNode data, Instant timestamp) {
    public QmpEvent {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(data, "data");
        Objects.requireNonNull(timestamp, "timestamp");
    }

    /** The data as {@code type} (one of {@link QmpEvents}' records). */
    public <T> T data(Class<T> type) {
        return QmpJson.MAPPER.convertValue(data, type);
    }
}
