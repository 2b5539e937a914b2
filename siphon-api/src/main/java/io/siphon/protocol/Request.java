package io.siphon.protocol;

import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * A client's command: {@code {"execute": NAME, "arguments": {...}, "id": ANY}}.
 *
 * @param command the command's name
 * @param arguments the command's arguments, empty when absent
 * @param id any JSON value the reply echoes, or empty
 */
public record Request(String command, Map<String, Object> arguments, Optional<Object> id) implements Message {
    public Request {
        Objects.requireNonNull(command, "command");
        Objects.requireNonNull(arguments, "arguments");
        Objects.requireNonNull(id, "id");
    }
}
