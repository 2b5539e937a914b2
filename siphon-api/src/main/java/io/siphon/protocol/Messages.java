package io.siphon.protocol;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Encodes messages as one line of JSON each and decodes them back. Stateless and thread-safe. */
public final class Messages {
    /** The protocol's version, sent in the greeting. */
    public static final String VERSION = "0.1.0";

    private Messages() {}

    /** The message's JSON text, without the LF. */
    public static String encode(Message message) {
        Map<String, Object> out = new LinkedHashMap<>();
        switch (message) {
            case Greeting g -> {
                String[] parts = g.version().split("\\.", 3);
                Map<String, Object> version = new LinkedHashMap<>();
                version.put("major", Long.parseLong(parts[0]));
                version.put("minor", parts.length > 1 ? Long.parseLong(parts[1]) : 0L);
                version.put("micro", parts.length > 2 ? Long.parseLong(parts[2]) : 0L);
                out.put(
                        "QMP",
                        Map.of(
                                "version",
                                Map.of("siphon", version, "package", "siphon"),
                                "capabilities",
                                g.capabilities()));
            }
            case Request r -> {
                out.put("execute", r.command());
                if (!r.arguments().isEmpty()) {
                    out.put("arguments", r.arguments());
                }
                r.id().ifPresent(id -> out.put("id", id));
            }
            case Reply r -> {
                out.put("return", r.value());
                r.id().ifPresent(id -> out.put("id", id));
            }
            case ErrorReply e -> {
                Map<String, Object> error = new LinkedHashMap<>();
                error.put("class", e.errorClass());
                error.put("desc", e.description());
                out.put("error", error);
                e.id().ifPresent(id -> out.put("id", id));
            }
            case EventMessage e -> {
                out.put("event", e.event());
                out.put("data", e.data());
                Map<String, Object> timestamp = new LinkedHashMap<>();
                timestamp.put("seconds", Math.floorDiv(e.timestampMicros(), 1_000_000L));
                timestamp.put("microseconds", Math.floorMod(e.timestampMicros(), 1_000_000L));
                out.put("timestamp", timestamp);
            }
        }
        return Json.write(out);
    }

    /** Decodes one line; anything but an object of one of the five shapes is a {@link ProtocolException}. */
    public static Message decode(String line) throws ProtocolException {
        if (!(Json.parse(line) instanceof Map<?, ?> raw)) {
            throw new ProtocolException("a message must be a JSON object");
        }
        Map<String, Object> map = objectMap(raw);
        Optional<Object> id = Optional.ofNullable(map.get("id"));
        if (map.containsKey("execute")) {
            if (!(map.get("execute") instanceof String command)) {
                throw new ProtocolException("'execute' must be a string");
            }
            Object arguments = map.getOrDefault("arguments", Map.of());
            if (!(arguments instanceof Map<?, ?> args)) {
                throw new ProtocolException("'arguments' must be an object");
            }
            for (String key : map.keySet()) {
                if (!List.of("execute", "arguments", "id").contains(key)) {
                    throw new ProtocolException("unknown member '" + key + "' in a command");
                }
            }
            return new Request(command, objectMap(args), id);
        }
        if (map.containsKey("return")) {
            return new Reply(map.get("return"), id);
        }
        if (map.get("error") instanceof Map<?, ?> error) {
            return new ErrorReply(String.valueOf(error.get("class")), String.valueOf(error.get("desc")), id);
        }
        if (map.get("event") instanceof String event) {
            Map<String, Object> data = map.get("data") instanceof Map<?, ?> d ? objectMap(d) : Map.of();
            long micros = 0;
            if (map.get("timestamp") instanceof Map<?, ?> ts
                    && ts.get("seconds") instanceof Long s
                    && ts.get("microseconds") instanceof Long us) {
                micros = s * 1_000_000L + us;
            }
            return new EventMessage(event, data, micros);
        }
        if (map.get("QMP") instanceof Map<?, ?> qmp) {
            String version = "0.0.0";
            if (qmp.get("version") instanceof Map<?, ?> v && v.get("siphon") instanceof Map<?, ?> s) {
                version = s.get("major") + "." + s.get("minor") + "." + s.get("micro");
            }
            List<String> capabilities = qmp.get("capabilities") instanceof List<?> caps
                    ? caps.stream().map(String::valueOf).toList()
                    : List.of();
            return new Greeting(version, capabilities);
        }
        throw new ProtocolException("a message needs one of 'execute', 'return', 'error', 'event' or 'QMP'");
    }

    private static Map<String, Object> objectMap(Map<?, ?> raw) {
        Map<String, Object> map = new LinkedHashMap<>();
        raw.forEach((k, v) -> map.put((String) k, v));
        return map;
    }
}
