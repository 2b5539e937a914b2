package io.siphon.daemon.web;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import io.javalin.http.Context;
import io.siphon.api.ErrorCode;
import io.siphon.api.PullStrategy;
import io.siphon.api.SiphonException;
import io.siphon.api.spi.DriverSession;
import java.util.Iterator;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The console's write actions on a disk's pull ({@code POST /api/domains/D/disks/T/ACTION}: pull,
 * pause, resume, abort, speed), each behind the {@link WriteGuard}, run through a read-write
 * session as a control-protocol client's would be. A refused request changes nothing. Thread-safe.
 */
final class ConsoleActions {
    private static final Logger LOG = LoggerFactory.getLogger(ConsoleActions.class);

    /** A request body larger than this is refused: the actions take at most two small fields. */
    static final int MAX_BODY_BYTES = 4096;

    private static final Set<String> ACTIONS = Set.of("pull", "pause", "resume", "abort", "speed");
    private static final Set<String> FIELDS = Set.of("bytesPerSecond", "base");

    private final WriteGuard guard;
    private final DriverSession writer;

    ConsoleActions(WriteGuard guard, DriverSession writer) {
        this.guard = guard;
        this.writer = writer;
    }

    void handle(Context ctx) {
        String action = ctx.pathParam("action");
        if (!ACTIONS.contains(action)) {
            Http.error(ctx, 404, "no action '" + action + "' (pull, pause, resume, abort, speed)");
            return;
        }
        Optional<String> refusal = guard.refusal(ctx);
        if (refusal.isPresent()) {
            Http.error(ctx, 403, refusal.get());
            return;
        }
        String length = ctx.header("Content-Length");
        if (length != null && (!length.matches("[0-9]{1,9}") || Long.parseLong(length) > MAX_BODY_BYTES)) {
            Http.error(ctx, 400, "a request body is at most " + MAX_BODY_BYTES + " bytes");
            return;
        }
        byte[] body = ctx.bodyAsBytes();
        if (body.length > MAX_BODY_BYTES) {
            Http.error(ctx, 400, "a request body is at most " + MAX_BODY_BYTES + " bytes");
            return;
        }
        JsonNode json;
        try {
            json = body.length == 0 ? ConsoleModel.JSON.createObjectNode() : ConsoleModel.JSON.readTree(body);
        } catch (JacksonException e) {
            Http.error(ctx, 400, "the body is not JSON: " + e.getOriginalMessage());
            return;
        } catch (java.io.IOException e) {
            Http.error(ctx, 400, "the body cannot be read: " + e.getMessage());
            return;
        }
        if (json == null || !json.isObject()) {
            Http.error(ctx, 400, "the body must be a JSON object");
            return;
        }
        for (Iterator<String> names = json.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!FIELDS.contains(name)) {
                Http.error(ctx, 400, "unknown field '" + name + "'");
                return;
            }
        }
        String domain = ctx.pathParam("domain");
        String disk = ctx.pathParam("disk");
        try {
            run(action, domain, disk, json);
        } catch (BadRequest e) {
            Http.error(ctx, 400, e.getMessage());
            return;
        } catch (SiphonException e) {
            Http.error(ctx, statusOf(e.code()), e.getMessage());
            return;
        }
        LOG.info("web console: {} on domain {} disk {}", action, domain, disk);
        Http.json(ctx, 200, ConsoleModel.JSON.createObjectNode().put("ok", true));
    }

    private void run(String action, String domain, String disk, JsonNode json) {
        switch (action) {
            case "pull" ->
                writer.blockPull(
                        domain,
                        disk,
                        text(json, "base"),
                        number(json, "bytesPerSecond").orElse(0L),
                        false,
                        PullStrategy.DEFAULT);
            case "pause" -> writer.blockJobPause(domain, disk);
            case "resume" -> writer.blockJobResume(domain, disk);
            case "abort" -> writer.blockJobAbort(domain, disk, true);
            case "speed" ->
                writer.blockJobSetSpeed(
                        domain,
                        disk,
                        number(json, "bytesPerSecond")
                                .orElseThrow(() -> new BadRequest("'speed' needs bytesPerSecond")));
            default -> throw new IllegalStateException("action " + action);
        }
    }

    private static Optional<Long> number(JsonNode json, String field) {
        JsonNode value = json.get(field);
        if (value == null) {
            return Optional.empty();
        }
        if (!value.isIntegralNumber() || !value.canConvertToLong() || value.asLong() < 0) {
            throw new BadRequest("'" + field + "' must be a whole number of bytes per second, 0 or more");
        }
        return Optional.of(value.asLong());
    }

    private static Optional<String> text(JsonNode json, String field) {
        JsonNode value = json.get(field);
        if (value == null) {
            return Optional.empty();
        }
        if (!value.isTextual() || value.asText().isEmpty()) {
            throw new BadRequest("'" + field + "' must be a non-empty string");
        }
        return Optional.of(value.asText());
    }

    static int statusOf(ErrorCode code) {
        return switch (code) {
            case NO_DOMAIN, NO_DISK -> 404;
            case INVALID_ARG -> 400;
            case READ_ONLY -> 403;
            case OPERATION_INVALID, NO_JOB, JOB_EXISTS, DOMAIN_EXISTS -> 409;
            default -> 500;
        };
    }

    /** A request whose body names a bad value. */
    private static final class BadRequest extends RuntimeException {
        BadRequest(String message) {
            super(message);
        }
    }
}
