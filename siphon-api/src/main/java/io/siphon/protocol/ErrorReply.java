package io.siphon.protocol;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Objects;
import java.util.Optional;

/**
 * A command's failure: {@code {"error": {"class": CLASS, "desc": TEXT}, "id": ID}}.
 *
 * @param errorClass an {@link io.siphon.api.ErrorCode} name
 * @param description what and where, for a person
 * @param id the request's id, or empty when the request had none or could not be read
 */
public record ErrorReply(String errorClass, String description, Optional<JsonNode> id) implements Message {
    public ErrorReply {
        Objects.requireNonNull(errorClass, "errorClass");
        Objects.requireNonNull(description, "description");
        Objects.requireNonNull(id, "id");
    }
}
