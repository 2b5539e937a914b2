package io.siphon.daemon;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.siphon.testing.fuzz.Mutations;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Mutated control-protocol messages: a seed draws one to four commands of every kind, with
 * arguments for the fuzzed domain's disk or names that do not exist, then mutates them as JSON
 * (a value replaced by an interesting one: 1e400, -1, 1.5, a string for a number, null, deep
 * nesting, a NUL or a lone surrogate; a member dropped, added or renamed) and as text (a bit
 * flipped, a line cut short or split, bytes inserted, a duplicate member, bytes that are not UTF-8,
 * CRLF, blank lines). Stateless.
 */
final class ControlMessages {
    private static final JsonMapper JSON = new JsonMapper();
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final String[] COMMANDS = {
        "qmp_capabilities",
        "domain-define",
        "domain-undefine",
        "domain-list",
        "domain-info",
        "domain-start",
        "domain-shutdown",
        "domain-destroy",
        "domain-disks",
        "block-pull",
        "block-pull-step",
        "block-job-info",
        "block-job-abort",
        "block-job-set-speed",
        "block-job-pause",
        "block-job-resume",
        "domain-explode"
    };
    private static final String[] ARGUMENTS = {
        "domain", "disk", "xml", "base", "bandwidth-bytes", "keep-relative", "pace", "order", "async"
    };

    private final String fuzzXml;
    private final String diskPath;

    /** Messages about the domain {@code fuzz} that {@code fuzzXml} defines, whose disk is at {@code diskPath}. */
    ControlMessages(String fuzzXml, String diskPath) {
        this.fuzzXml = fuzzXml;
        this.diskPath = diskPath;
    }

    /** The bytes of one to four mutated messages drawn from {@code random}. */
    byte[] generate(Random random) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 1 + random.nextInt(4); i > 0; i--) {
            ObjectNode message = command(random);
            for (int m = random.nextBoolean() ? 0 : 1 + random.nextInt(3); m > 0; m--) {
                mutateTree(message, random);
            }
            byte[] line = text(message, random).getBytes(StandardCharsets.UTF_8);
            if (random.nextInt(4) == 0) {
                line = mutateText(line, random);
            }
            out.writeBytes(line);
            out.write('\n');
        }
        return out.toByteArray();
    }

    private ObjectNode command(Random random) {
        ObjectNode message = NODES.objectNode();
        String command = Mutations.pickOf(random, COMMANDS);
        message.put("execute", command);
        ObjectNode arguments = message.putObject("arguments");
        switch (command) {
            case "domain-define" -> arguments.put("xml", random.nextInt(3) == 0 ? mutatedXml(random) : fuzzXml);
            case "domain-list", "qmp_capabilities", "domain-explode" -> {
                if (random.nextBoolean()) {
                    message.remove("arguments");
                }
            }
            default -> {
                arguments.put("domain", Mutations.pickOf(random, "fuzz", "fuzz", "fuzz", "no-such", ""));
                if (command.startsWith("block-")) {
                    arguments.put("disk", Mutations.pickOf(random, "vda", "vda", diskPath, "vdz"));
                }
                switch (command) {
                    case "block-pull" -> {
                        arguments.put("bandwidth-bytes", Mutations.pick(random, 0, 1 << 20, 4096));
                        if (random.nextBoolean()) {
                            arguments.put("pace", Mutations.pickOf(random, "limit", "guest", "fast"));
                        }
                        if (random.nextBoolean()) {
                            arguments.put("order", Mutations.pickOf(random, "offset", "profile", "random"));
                        }
                    }
                    case "block-job-set-speed" -> arguments.put("bandwidth-bytes", random.nextInt(1 << 24));
                    case "block-job-abort" -> arguments.put("async", random.nextBoolean());
                    default -> {}
                }
            }
        }
        if (random.nextInt(4) != 0) {
            message.put("id", random.nextInt(1000));
        }
        return message;
    }

    private String mutatedXml(Random random) {
        byte[] xml = fuzzXml.getBytes(StandardCharsets.UTF_8);
        for (int m = 1 + random.nextInt(3); m > 0; m--) {
            xml = random.nextBoolean() ? Mutations.flip(xml, random) : Mutations.insert(xml, random);
        }
        return new String(xml, StandardCharsets.UTF_8);
    }

    /** Replaces, drops, adds or renames a member somewhere in {@code message}. */
    private static void mutateTree(ObjectNode message, Random random) {
        ObjectNode target =
                message.get("arguments") instanceof ObjectNode arguments && random.nextBoolean() ? arguments : message;
        List<String> names = new ArrayList<>();
        target.fieldNames().forEachRemaining(names::add);
        switch (random.nextInt(4)) {
            case 0 -> {
                if (!names.isEmpty()) {
                    target.remove(names.get(random.nextInt(names.size())));
                }
            }
            case 1 -> target.set(Mutations.pickOf(random, ARGUMENTS), value(random));
            case 2 -> target.set(Mutations.pickOf(random, "execute", "arguments", "id", "extra", ""), value(random));
            default -> {
                if (!names.isEmpty()) {
                    target.set(names.get(random.nextInt(names.size())), value(random));
                }
            }
        }
    }

    /** An interesting JSON value. */
    private static JsonNode value(Random random) {
        return switch (random.nextInt(14)) {
            case 0 -> NODES.numberNode(Mutations.value(random));
            case 1 -> NODES.numberNode(-1);
            case 2 -> NODES.numberNode(1.5);
            case 3 -> NODES.numberNode(new java.math.BigDecimal("1e400"));
            case 4 -> NODES.numberNode(new java.math.BigInteger("18446744073709551616"));
            case 5 -> NODES.textNode("true");
            case 6 -> NODES.nullNode();
            case 7 -> NODES.booleanNode(random.nextBoolean());
            case 8 -> NODES.arrayNode().add(1).add("x");
            case 9 -> NODES.objectNode().put("domain", "fuzz");
            case 10 -> nested(random.nextInt(40));
            case 11 -> NODES.textNode("fu\u0000zz\ud800");
            case 12 -> NODES.textNode("x".repeat(random.nextInt(100_000)));
            default -> NODES.textNode(Mutations.pickOf(random, "fuzz", "vda", "", "../../etc", "fuzz\n", "1e999"));
        };
    }

    private static JsonNode nested(int depth) {
        ArrayNode root = NODES.arrayNode();
        ArrayNode at = root;
        for (int i = 0; i < depth; i++) {
            at = at.addArray();
        }
        return root;
    }

    private static String text(ObjectNode message, Random random) {
        String text;
        try {
            text = JSON.writeValueAsString(message);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("a tree of plain nodes always serializes", e);
        }
        return switch (random.nextInt(12)) {
            case 0 -> text.replaceFirst("\\{", "{\"id\":1,\"id\":2,"); // a duplicate member
            case 1 -> text + "\r"; // CRLF
            case 2 -> "\n" + text; // a blank line first
            case 3 -> text + " {}"; // text after the object
            case 4 -> text.replace("1e400", "1e999");
            default -> text;
        };
    }

    private static byte[] mutateText(byte[] line, Random random) {
        return switch (random.nextInt(5)) {
            case 0 -> Mutations.flip(line, random);
            case 1 -> Mutations.cut(line, random);
            case 2 -> Mutations.insert(line, random);
            case 3 -> {
                byte[] out = Mutations.insert(line, random);
                out[random.nextInt(out.length)] = (byte) 0xc3; // a lead byte with no continuation, often
                yield out;
            }
            default -> {
                byte[] out = line.clone();
                out[random.nextInt(out.length)] = '\n'; // split into two lines
                yield out;
            }
        };
    }
}
