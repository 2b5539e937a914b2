package io.siphon.protocol;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Objects;
import java.util.Optional;

/**
 * A command's success: {@code {"return": VALUE, "id": ID}}.
 *
 * @param value the {@link Result} as JSON ({@code {}} when the command returns nothing); the client
 *     reads it as the result type of the command it sent
 * @param id the request's id, or empty
 */
public record Reply(JsonNode value, Optional<JsonNode> id) implements Message {
    public Reply {
        Objects.requireNonNull(value, "value");
        Objects.requireNonNull(id, "id");
    }
}
