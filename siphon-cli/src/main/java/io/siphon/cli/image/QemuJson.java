package io.siphon.cli.image;

import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * JSON as qemu-img pretty-prints it (four-space indent, {@code "key": value}), so that output can be
 * diffed against qemu-img's. Values are String, Number, Boolean, Map (insertion order kept) or List.
 */
final class QemuJson {
    private static final String INDENT = "    ";

    private QemuJson() {}

    static String pretty(Object value) {
        StringBuilder out = new StringBuilder();
        write(out, value, 0);
        return out.toString();
    }

    private static void write(StringBuilder out, Object value, int depth) {
        switch (value) {
            case Map<?, ?> map -> writeMap(out, map, depth);
            case List<?> list -> writeList(out, list, depth);
            case String text -> quote(out, text);
            case Number number -> out.append(number);
            case Boolean bool -> out.append(bool);
            default -> throw new IllegalArgumentException("cannot write " + value.getClass() + " as JSON");
        }
    }

    private static void writeMap(StringBuilder out, Map<?, ?> map, int depth) {
        out.append("{\n");
        Iterator<? extends Map.Entry<?, ?>> entries = map.entrySet().iterator();
        while (entries.hasNext()) {
            Map.Entry<?, ?> entry = entries.next();
            out.append(INDENT.repeat(depth + 1));
            quote(out, entry.getKey().toString());
            out.append(": ");
            write(out, entry.getValue(), depth + 1);
            out.append(entries.hasNext() ? ",\n" : "\n");
        }
        out.append(INDENT.repeat(depth)).append('}');
    }

    private static void writeList(StringBuilder out, List<?> list, int depth) {
        out.append("[\n");
        for (int i = 0; i < list.size(); i++) {
            out.append(INDENT.repeat(depth + 1));
            write(out, list.get(i), depth + 1);
            out.append(i + 1 < list.size() ? ",\n" : "\n");
        }
        out.append(INDENT.repeat(depth)).append(']');
    }

    /** Writes {@code text} as a JSON string; like qemu, everything outside printable ASCII is escaped. */
    static void quote(StringBuilder out, String text) {
        out.append('"');
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20 || c >= 0x7f) {
                        out.append(String.format("\\u%04X", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }
}
