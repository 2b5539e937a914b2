package io.siphon.protocol;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.cfg.EnumFeature;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.type.LogicalType;
import io.siphon.api.ErrorCode;
import io.siphon.api.SiphonException;
import java.lang.reflect.RecordComponent;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Encodes messages as one line of JSON each and decodes them back, with Jackson. Its read limits
 * ({@link #MAX_DEPTH} levels, strings no longer than a frame, numbers of at most {@link
 * #MAX_NUMBER_DIGITS} digits), duplicate members and trailing text are refused as {@link
 * ErrorCode#PROTOCOL_ERROR}; arguments are bound to the {@link Command} record strictly (no
 * coercion, no unknown members, no nulls), else {@link ErrorCode#INVALID_ARG}. Stateless and
 * thread-safe.
 */
public final class MessageCodec {
    /** The protocol's version, sent in the greeting. */
    public static final String VERSION = "0.1.0";

    /** Nesting deeper than this is refused, so that a hostile message cannot exhaust the stack. */
    public static final int MAX_DEPTH = 32;

    /** A longer number is refused: no argument needs more than a long's 19 digits. */
    public static final int MAX_NUMBER_DIGITS = 100;

    private static final PropertyNamingStrategies.NamingBase KEBAB =
            (PropertyNamingStrategies.NamingBase) PropertyNamingStrategies.KEBAB_CASE;
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final Set<String> REQUEST_MEMBERS = Set.of("execute", "arguments", "id");

    private static final JsonMapper MAPPER = JsonMapper.builder(JsonFactory.builder()
                    .streamReadConstraints(StreamReadConstraints.builder()
                            .maxNestingDepth(MAX_DEPTH)
                            .maxStringLength(FrameReader.MAX_MESSAGE_BYTES)
                            .maxNumberLength(MAX_NUMBER_DIGITS)
                            .build())
                    .build())
            .propertyNamingStrategy(KEBAB)
            .serializationInclusion(JsonInclude.Include.NON_NULL)
            .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS)
            .configure(EnumFeature.WRITE_ENUMS_TO_LOWERCASE, true)
            .enable(MapperFeature.ACCEPT_CASE_INSENSITIVE_ENUMS)
            .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
            .withCoercionConfig(
                    LogicalType.Textual,
                    text -> text.setCoercion(CoercionInputShape.Integer, CoercionAction.Fail)
                            .setCoercion(CoercionInputShape.Float, CoercionAction.Fail)
                            .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail))
            .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();

    /** Every command record by its wire name. */
    private static final Map<String, Class<?>> COMMANDS =
            commandTypes(Command.class).collect(Collectors.toUnmodifiableMap(Command::wireName, Function.identity()));

    private MessageCodec() {}

    private static Stream<Class<?>> commandTypes(Class<?> type) {
        return type.isRecord()
                ? Stream.of(type)
                : Arrays.stream(type.getPermittedSubclasses()).flatMap(MessageCodec::commandTypes);
    }

    /** The message's JSON text, without the LF. */
    public static String encode(Message message) {
        ObjectNode out = NODES.objectNode();
        switch (message) {
            case Greeting g -> {
                String[] parts = g.version().split("\\.", 3);
                ObjectNode version = NODES.objectNode()
                        .put("major", Long.parseLong(parts[0]))
                        .put("minor", parts.length > 1 ? Long.parseLong(parts[1]) : 0L)
                        .put("micro", parts.length > 2 ? Long.parseLong(parts[2]) : 0L);
                ObjectNode qmp = out.putObject("QMP");
                qmp.putObject("version").<ObjectNode>set("siphon", version).put("package", "siphon");
                g.capabilities().forEach(qmp.putArray("capabilities")::add);
            }
            case Request r -> {
                out.put("execute", r.command().wireName());
                JsonNode arguments = MAPPER.valueToTree(r.command());
                if (!arguments.isEmpty()) {
                    out.set("arguments", arguments);
                }
                r.id().ifPresent(id -> out.set("id", id));
            }
            case Reply r -> {
                out.set("return", r.value());
                r.id().ifPresent(id -> out.set("id", id));
            }
            case ErrorReply e -> {
                out.putObject("error").put("class", e.errorClass()).put("desc", e.description());
                e.id().ifPresent(id -> out.set("id", id));
            }
            case EventMessage e -> {
                out.put("event", e.event().name());
                out.set("data", MAPPER.valueToTree(e.event()));
                out.putObject("timestamp")
                        .put("seconds", Math.floorDiv(e.timestampMicros(), 1_000_000L))
                        .put("microseconds", Math.floorMod(e.timestampMicros(), 1_000_000L));
            }
        }
        try {
            return MAPPER.writeValueAsString(out);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a tree of plain nodes failed to write: " + e.getMessage(), e);
        }
    }

    /** {@code result} as the JSON a reply carries in {@code "return"} (what {@code --output=json} prints). */
    public static JsonNode tree(Result result) {
        return MAPPER.valueToTree(result);
    }

    /** The reply carrying {@code result}. */
    public static Reply reply(Result result, Optional<JsonNode> id) {
        return new Reply(MAPPER.valueToTree(result), id);
    }

    /** The result of {@code command} that {@code reply} carries; a mismatch is {@link ErrorCode#PROTOCOL_ERROR}. */
    public static <R extends Result> R result(Command<R> command, Reply reply) {
        JavaType type = MAPPER.getTypeFactory().findTypeParameters(command.getClass(), Command.class)[0];
        try {
            return MAPPER.treeToValue(reply.value(), type);
        } catch (JacksonException | IllegalArgumentException e) {
            throw new SiphonException(
                    ErrorCode.PROTOCOL_ERROR,
                    "malformed reply to '" + command.wireName() + "': " + originalMessage(e),
                    e);
        }
    }

    /**
     * Decodes one line; anything but an object of one of the five shapes is a {@link
     * ProtocolException}, and so is a command with an unknown name or bad arguments (with its id).
     */
    public static Message decode(String line) throws ProtocolException {
        JsonNode tree;
        try {
            tree = MAPPER.readTree(line);
        } catch (JsonProcessingException e) {
            JsonLocation where = e.getLocation();
            String offset = where == null ? "" : " at offset " + where.getCharOffset();
            throw new ProtocolException("malformed JSON" + offset + ": " + e.getOriginalMessage());
        }
        if (!(tree instanceof ObjectNode message)) {
            throw new ProtocolException("a message must be a JSON object");
        }
        if (message.has("execute")) {
            return request(message);
        }
        Optional<JsonNode> id = Optional.ofNullable(message.get("id"));
        if (message.has("return")) {
            return new Reply(message.get("return"), id);
        }
        if (message.get("error") instanceof ObjectNode error) {
            return new ErrorReply(
                    error.path("class").asText(), error.path("desc").asText(), id);
        }
        if (message.get("event") instanceof JsonNode name && name.isTextual()) {
            JsonNode ts = message.path("timestamp");
            long micros = ts.path("seconds").asLong() * 1_000_000L
                    + ts.path("microseconds").asLong();
            return new EventMessage(event(name.asText(), message.path("data")), micros);
        }
        if (message.get("QMP") instanceof ObjectNode qmp) {
            JsonNode v = qmp.path("version").path("siphon");
            String version = v.path("major").asLong() + "." + v.path("minor").asLong() + "."
                    + v.path("micro").asLong();
            List<String> capabilities =
                    qmp.path("capabilities").valueStream().map(JsonNode::asText).toList();
            return new Greeting(version, capabilities);
        }
        throw new ProtocolException("a message needs one of 'execute', 'return', 'error', 'event' or 'QMP'");
    }

    private static Event event(String name, JsonNode data) throws ProtocolException {
        Class<? extends Event> type = switch (name) {
            case "BLOCK_JOB" -> Event.BlockJob.class;
            case "DOMAIN_LIFECYCLE" -> Event.Lifecycle.class;
            default -> null;
        };
        if (type == null) {
            return new Event.Unknown(name);
        }
        try {
            return MAPPER.treeToValue(data, type);
        } catch (JacksonException | IllegalArgumentException e) {
            throw new ProtocolException("malformed event " + name + ": " + originalMessage(e));
        }
    }

    private static Request request(ObjectNode message) throws ProtocolException {
        for (String member : (Iterable<String>) message::fieldNames) {
            if (!REQUEST_MEMBERS.contains(member)) {
                throw new ProtocolException("unknown member '" + member + "' in a command");
            }
        }
        if (!message.get("execute").isTextual()) {
            throw new ProtocolException("'execute' must be a string");
        }
        JsonNode arguments = message.has("arguments") ? message.get("arguments") : NODES.objectNode();
        if (!arguments.isObject()) {
            throw new ProtocolException("'arguments' must be an object");
        }
        Optional<JsonNode> id = Optional.ofNullable(message.get("id"));
        if (id.isPresent() && !finite(id.get())) {
            // Jackson reads 1e999 as infinity, which JSON cannot carry back in the reply
            throw new ProtocolException("'id' is a number out of range");
        }
        String name = message.get("execute").asText();
        Class<?> type = COMMANDS.get(name);
        if (type == null) {
            throw new ProtocolException(
                    ErrorCode.UNKNOWN_COMMAND, "the control protocol has no command '" + name + "'", id);
        }
        try {
            for (Map.Entry<String, JsonNode> argument : arguments.properties()) {
                if (argument.getValue().isNull()) {
                    throw new IllegalArgumentException("argument '" + argument.getKey() + "' must not be null");
                }
            }
            return new Request((Command<?>) MAPPER.treeToValue(arguments, type), id);
        } catch (JacksonException | IllegalArgumentException e) {
            throw new ProtocolException(
                    ErrorCode.INVALID_ARG, "command '" + name + "' " + invalidArgument(e, type, arguments), id);
        }
    }

    private static boolean finite(JsonNode node) {
        if (node.isFloatingPointNumber()) {
            return Double.isFinite(node.doubleValue());
        }
        for (JsonNode child : node) {
            if (!finite(child)) {
                return false;
            }
        }
        return true;
    }

    /** What is wrong with the arguments of {@code type}, in the protocol's words rather than Jackson's. */
    private static String invalidArgument(Exception e, Class<?> type, JsonNode arguments) {
        if (e instanceof UnrecognizedPropertyException u) {
            return "has no argument '" + u.getPropertyName() + "'";
        }
        if (e instanceof ValueInstantiationException v && v.getCause() instanceof SiphonException cause) {
            return cause.getMessage();
        }
        if (e instanceof IllegalArgumentException) {
            return e.getMessage();
        }
        if (e instanceof JsonMappingException m && !m.getPath().isEmpty()) {
            String name = m.getPath().getLast().getFieldName();
            JsonNode value = arguments.get(name);
            if (value == null) {
                return "needs argument '" + name + "'";
            }
            String shown = finite(value) ? value.toString() : "a number out of range";
            return "argument '" + name + "' must be " + kind(type, name) + ", not " + shown;
        }
        return originalMessage(e);
    }

    /** The JSON kind of the argument {@code name} of the command record {@code type}. */
    private static String kind(Class<?> type, String name) {
        for (RecordComponent component : type.getRecordComponents()) {
            if (KEBAB.translate(component.getName()).equals(name)) {
                Class<?> javaType = component.getType();
                if (javaType == long.class) {
                    return "an integer";
                }
                return javaType == boolean.class ? "true or false" : "a string";
            }
        }
        return "something else";
    }

    private static String originalMessage(Exception e) {
        return e instanceof JacksonException j ? j.getOriginalMessage() : e.getMessage();
    }
}
