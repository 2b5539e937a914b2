package io.siphon.format.remote;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The JSON object of a QEMU {@code json:} name, flattened as QEMU flattens options: nested objects
 * become dotted keys ({@code {"file":{"driver":"nbd"}}} is {@code file.driver=nbd}); strings,
 * numbers and booleans become their text. Arrays and null are refused: no backing name needs them.
 */
final class FlatJson {
    private final String text;
    private int at;

    private FlatJson(String text) {
        this.text = text;
    }

    /** Parses {@code text}; a syntax error is an IllegalArgumentException naming the offset. */
    static Map<String, String> parse(String text) {
        FlatJson parser = new FlatJson(text);
        Map<String, String> flat = new LinkedHashMap<>();
        parser.skipSpace();
        parser.object("", flat);
        parser.skipSpace();
        if (parser.at != text.length()) {
            throw parser.error("text after the object");
        }
        return flat;
    }

    private void object(String prefix, Map<String, String> flat) {
        expect('{');
        skipSpace();
        if (peek() == '}') {
            at++;
            return;
        }
        while (true) {
            skipSpace();
            String key = prefix + string();
            skipSpace();
            expect(':');
            skipSpace();
            char c = peek();
            if (c == '{') {
                object(key + ".", flat);
            } else {
                String value = c == '"' ? string() : bare();
                if (flat.put(key, value) != null) {
                    throw error("key '" + key + "' given twice");
                }
            }
            skipSpace();
            char next = next();
            if (next == '}') {
                return;
            }
            if (next != ',') {
                throw error("expected ',' or '}'");
            }
        }
    }

    private String string() {
        expect('"');
        StringBuilder out = new StringBuilder();
        while (true) {
            char c = next();
            if (c == '"') {
                return out.toString();
            }
            if (c != '\\') {
                out.append(c);
                continue;
            }
            char escaped = next();
            switch (escaped) {
                case '"', '\\', '/' -> out.append(escaped);
                case 'b' -> out.append('\b');
                case 'f' -> out.append('\f');
                case 'n' -> out.append('\n');
                case 'r' -> out.append('\r');
                case 't' -> out.append('\t');
                case 'u' -> {
                    if (at + 4 > text.length()) {
                        throw error("short \\u escape");
                    }
                    try {
                        out.append((char) Integer.parseInt(text.substring(at, at + 4), 16));
                    } catch (NumberFormatException e) {
                        throw error("bad \\u escape");
                    }
                    at += 4;
                }
                default -> throw error("bad escape \\" + escaped);
            }
        }
    }

    /** A number, true or false. */
    private String bare() {
        int start = at;
        while (at < text.length() && "-+.eE0123456789truefals".indexOf(text.charAt(at)) >= 0) {
            at++;
        }
        String value = text.substring(start, at);
        if (value.isEmpty()
                || !(value.equals("true") || value.equals("false") || value.matches("-?[0-9][0-9.eE+-]*"))) {
            at = start;
            throw error("expected a string, number, boolean or object");
        }
        return value;
    }

    private void skipSpace() {
        while (at < text.length() && Character.isWhitespace(text.charAt(at))) {
            at++;
        }
    }

    private char peek() {
        if (at >= text.length()) {
            throw error("unexpected end");
        }
        return text.charAt(at);
    }

    private char next() {
        char c = peek();
        at++;
        return c;
    }

    private void expect(char c) {
        if (next() != c) {
            at--;
            throw error("expected '" + c + "'");
        }
    }

    private IllegalArgumentException error(String what) {
        return new IllegalArgumentException(what + " at offset " + at);
    }
}
