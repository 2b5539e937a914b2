package io.siphon.protocol;

import io.siphon.api.BlockJobEvent;
import io.siphon.api.BlockJobInfo;
import io.siphon.api.BlockJobProgress;
import io.siphon.api.BlockJobState;
import io.siphon.api.BlockJobStatus;
import io.siphon.api.BlockJobType;
import io.siphon.api.DiskInfo;
import io.siphon.api.DomainInfo;
import io.siphon.api.DomainState;
import io.siphon.api.ErrorCode;
import io.siphon.api.LifecycleEvent;
import io.siphon.api.SiphonEvent;
import io.siphon.api.SiphonException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * The API's values as JSON objects (member names in kebab-case, sizes in bytes, rates in bytes per
 * second), and back. Decoding a value a daemon sent wrongly is {@link ErrorCode#PROTOCOL_ERROR}.
 * Stateless and thread-safe.
 */
public final class Values {
    /** Event name of a {@link BlockJobEvent}. */
    public static final String BLOCK_JOB_EVENT = "BLOCK_JOB";
    /** Event name of a {@link LifecycleEvent}. */
    public static final String LIFECYCLE_EVENT = "DOMAIN_LIFECYCLE";

    private Values() {}

    public static Map<String, Object> domainInfo(DomainInfo info) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("name", info.name());
        out.put("uuid", info.uuid().toString());
        out.put("state", info.state().name().toLowerCase());
        out.put("disks", (long) info.diskCount());
        return out;
    }

    public static DomainInfo domainInfo(Object json) {
        Map<?, ?> map = object(json, "domain info");
        try {
            return new DomainInfo(
                    string(map, "name"),
                    UUID.fromString(string(map, "uuid")),
                    DomainState.valueOf(string(map, "state").toUpperCase()),
                    Math.toIntExact(number(map, "disks")));
        } catch (IllegalArgumentException | ArithmeticException e) {
            throw malformed("domain info", e);
        }
    }

    public static Map<String, Object> diskInfo(DiskInfo disk) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("target", disk.target());
        out.put("source", disk.source());
        out.put("format", disk.format());
        out.put("read-only", disk.readOnly());
        out.put("copy-on-read", disk.copyOnRead());
        disk.nbdUri().ifPresent(uri -> out.put("nbd-uri", uri));
        return out;
    }

    public static DiskInfo diskInfo(Object json) {
        Map<?, ?> map = object(json, "disk info");
        return new DiskInfo(
                string(map, "target"),
                string(map, "source"),
                string(map, "format"),
                bool(map, "read-only"),
                bool(map, "copy-on-read"),
                map.get("nbd-uri") instanceof String uri ? Optional.of(uri) : Optional.empty());
    }

    public static Map<String, Object> blockJobInfo(BlockJobInfo info) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("type", info.type().name().toLowerCase());
        out.put("bandwidth-bytes", info.bandwidthBytesPerSecond());
        out.put("cur", info.curBytes());
        out.put("end", info.endBytes());
        out.put("state", info.state().name().toLowerCase());
        out.put("rate-bytes", info.rateBytesPerSecond());
        info.eta().ifPresent(eta -> out.put("eta-ms", eta.toMillis()));
        return out;
    }

    public static BlockJobInfo blockJobInfo(Object json) {
        Map<?, ?> map = object(json, "block job info");
        try {
            return new BlockJobInfo(
                    BlockJobType.valueOf(string(map, "type").toUpperCase()),
                    number(map, "bandwidth-bytes"),
                    number(map, "cur"),
                    number(map, "end"),
                    BlockJobState.valueOf(string(map, "state").toUpperCase()),
                    number(map, "rate-bytes"),
                    map.get("eta-ms") instanceof Long ms ? Optional.of(Duration.ofMillis(ms)) : Optional.empty());
        } catch (IllegalArgumentException e) {
            throw malformed("block job info", e);
        }
    }

    public static Map<String, Object> progress(BlockJobProgress progress) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("cur", progress.curBytes());
        out.put("end", progress.endBytes());
        out.put("completed", progress.completed());
        return out;
    }

    public static BlockJobProgress progress(Object json) {
        Map<?, ?> map = object(json, "progress");
        try {
            return new BlockJobProgress(number(map, "cur"), number(map, "end"), bool(map, "completed"));
        } catch (IllegalArgumentException e) {
            throw malformed("progress", e);
        }
    }

    /** The event as a protocol message stamped {@code timestampMicros}. */
    public static EventMessage event(SiphonEvent event, long timestampMicros) {
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("domain", event.domain());
        return switch (event) {
            case BlockJobEvent e -> {
                data.put("disk", e.disk());
                data.put("type", e.type().name().toLowerCase());
                data.put("status", e.status().name().toLowerCase());
                e.error().ifPresent(error -> data.put("error", error));
                yield new EventMessage(BLOCK_JOB_EVENT, data, timestampMicros);
            }
            case LifecycleEvent e -> {
                data.put("kind", e.kind().name().toLowerCase());
                yield new EventMessage(LIFECYCLE_EVENT, data, timestampMicros);
            }
        };
    }

    /** The API event an event message carries, or empty for an event this version does not know. */
    public static Optional<SiphonEvent> event(EventMessage message) {
        Map<String, Object> data = message.data();
        try {
            return switch (message.event()) {
                case BLOCK_JOB_EVENT ->
                    Optional.of(new BlockJobEvent(
                            string(data, "domain"),
                            string(data, "disk"),
                            BlockJobType.valueOf(string(data, "type").toUpperCase()),
                            BlockJobStatus.valueOf(string(data, "status").toUpperCase()),
                            data.get("error") instanceof String error ? Optional.of(error) : Optional.empty()));
                case LIFECYCLE_EVENT ->
                    Optional.of(new LifecycleEvent(
                            string(data, "domain"),
                            LifecycleEvent.Kind.valueOf(string(data, "kind").toUpperCase())));
                default -> Optional.empty();
            };
        } catch (IllegalArgumentException e) {
            throw malformed("event " + message.event(), e);
        }
    }

    static List<Object> list(Object json, String what) {
        if (!(json instanceof List<?> list)) {
            throw new SiphonException(ErrorCode.PROTOCOL_ERROR, what + " must be a JSON array, is " + Json.write(json));
        }
        return List.copyOf(list);
    }

    static Map<?, ?> object(Object json, String what) {
        if (!(json instanceof Map<?, ?> map)) {
            throw new SiphonException(
                    ErrorCode.PROTOCOL_ERROR, what + " must be a JSON object, is " + Json.write(json));
        }
        return map;
    }

    private static String string(Map<?, ?> map, String key) {
        if (!(map.get(key) instanceof String s)) {
            throw new SiphonException(ErrorCode.PROTOCOL_ERROR, "member '" + key + "' must be a string");
        }
        return s;
    }

    private static long number(Map<?, ?> map, String key) {
        if (!(map.get(key) instanceof Long l)) {
            throw new SiphonException(ErrorCode.PROTOCOL_ERROR, "member '" + key + "' must be an integer");
        }
        return l;
    }

    private static boolean bool(Map<?, ?> map, String key) {
        if (!(map.get(key) instanceof Boolean b)) {
            throw new SiphonException(ErrorCode.PROTOCOL_ERROR, "member '" + key + "' must be true or false");
        }
        return b;
    }

    private static SiphonException malformed(String what, Exception cause) {
        return new SiphonException(ErrorCode.PROTOCOL_ERROR, "malformed " + what + ": " + cause.getMessage(), cause);
    }
}
