package io.siphon.protocol;

import java.util.Objects;
import java.util.Optional;

/**
 * A command's success: {@code {"return": VALUE, "id": ID}}.
 *
 * @param value the result as a JSON value ({@code {}} when the command returns nothing)
 * @param id the request's id, or empty
 */
public record Reply(Object value, Optional<Object> id) implements Message {
    public Reply {
        Objects.requireNonNull(value, "value");
        Objects.requireNonNull(id, "id");
    }
}
