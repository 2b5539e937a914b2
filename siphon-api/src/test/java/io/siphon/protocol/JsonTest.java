package io.siphon.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonTest {
    @Test
    void roundTripsEveryKindOfValue() throws Exception {
        String text = "{\"s\":\"a\\\"b\\\\c\\n\\u0001é\",\"n\":-12,\"d\":1.5,\"t\":true,\"f\":false,\"z\":null,"
                + "\"l\":[1,[],{}],\"big\":9223372036854775807}";
        Object value = Json.parse(text);
        Map<?, ?> map = (Map<?, ?>) value;
        assertEquals("a\"b\\c\n\u0001é", map.get("s"));
        assertEquals(-12L, map.get("n"));
        assertEquals(1.5, map.get("d"));
        assertEquals(Json.NULL, map.get("z"));
        assertEquals(List.of(1L, List.of(), Map.of()), map.get("l"));
        assertEquals(Long.MAX_VALUE, map.get("big"));
        assertEquals(value, Json.parse(Json.write(value)));
        assertEquals(text, Json.write(value));
    }

    private static void malformed(String text, String expected) {
        ProtocolException e = assertThrows(ProtocolException.class, () -> Json.parse(text));
        assertTrue(e.getMessage().contains(expected), () -> "'" + e.getMessage() + "' lacks '" + expected + "'");
    }

    @Test
    void malformedInputNamesTheOffset() {
        malformed("{\"a\":1,}", "offset 7");
        malformed("{\"a\" 1}", "expected ':'");
        malformed("[1 2]", "expected ',' or ']'");
        malformed("{\"a\":1} x", "after the JSON value");
        malformed("\"abc", "end of input");
        malformed("\"a\\q\"", "bad escape");
        malformed("99999999999999999999", "out of range");
        malformed("{\"a\":1,\"a\":2}", "duplicate member 'a'");
        malformed("nul", "expected null");
        malformed("", "end of input");
    }

    @Test
    void deepNestingIsRefusedBeforeTheStackRunsOut() {
        malformed("[".repeat(100_000), "nested deeper than " + Json.MAX_DEPTH);
    }
}
