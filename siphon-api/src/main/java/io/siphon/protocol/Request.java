package io.siphon.protocol;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Objects;
import java.util.Optional;

/**
 * A client's command: {@code {"execute": NAME, "arguments": {...}, "id": ANY}}.
 *
 * @param command the command and its arguments
 * @param id any JSON value the reply echoes, or empty
 */
public record Request(Command<?> command, Optional<JsonNode> id) implements Message {
    public Request {
        Objects.requireNonNull(command, "command");
        Objects.requireNonNull(id, "id");
    }
}
