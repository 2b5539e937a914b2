package io.siphon.cli.view;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Byte for byte what qemu's JSON writer prints (qobject/json-writer.c in pretty mode). */
class QemuPrettyPrinterTest {
    @Test
    void nestedValuesAreIndentedByFourSpacesWithColonSpace() {
        Map<String, Object> inner = new LinkedHashMap<>();
        inner.put("compat", "1.1");
        inner.put("lazy-refcounts", false);
        Map<String, Object> top = new LinkedHashMap<>();
        top.put("virtual-size", 1048576L);
        top.put("ratio", 0.5);
        top.put("children", List.of(inner, List.of()));
        top.put("empty", Map.of());
        assertEquals("""
                {
                    "virtual-size": 1048576,
                    "ratio": 0.5,
                    "children": [
                        {
                            "compat": "1.1",
                            "lazy-refcounts": false
                        },
                        [
                        ]
                    ],
                    "empty": {
                    }
                }""", QemuPrettyPrinter.pretty(top));
    }

    @Test
    void everythingOutsidePrintableAsciiIsEscapedInUpperCaseHex() {
        assertEquals(
                "\"a\\\"b\\\\c\\b\\f\\n\\r\\t\\u0001\\u007F\\u00E9\\uD83D\\uDE00/\"",
                QemuPrettyPrinter.pretty("a\"b\\c\b\f\n\r\t\u0001\u007f\u00e9\uD83D\uDE00/"));
    }
}
