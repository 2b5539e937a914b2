package io.siphon.cli.view;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.PrettyPrinter;
import com.fasterxml.jackson.core.SerializableString;
import com.fasterxml.jackson.core.io.CharacterEscapes;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.core.util.Instantiatable;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;

/**
 * JSON as qemu-img pretty-prints it (four-space indent, {@code "key": value}, every container
 * broken over lines even when empty), so that output can be diffed against qemu-img's. One instance
 * per generator (it tracks the depth).
 */
public final class QemuPrettyPrinter implements PrettyPrinter, Instantiatable<QemuPrettyPrinter> {
    private static final String INDENT = "    ";

    /** Like qemu, everything outside printable ASCII (DEL included) as a {@code \\uXXXX} escape. */
    private static final CharacterEscapes QEMU_ESCAPES = new CharacterEscapes() {
        private final int[] ascii = standardAsciiEscapesForJSON();

        {
            ascii[0x7f] = ESCAPE_STANDARD;
        }

        @Override
        public int[] getEscapeCodesForAscii() {
            return ascii;
        }

        @Override
        public SerializableString getEscapeSequence(int ch) {
            return null; // no custom sequences: standard escapes only
        }
    };

    private static final ObjectWriter WRITER = JsonMapper.builder()
            .enable(JsonWriteFeature.ESCAPE_NON_ASCII)
            .build()
            .writer(new QemuPrettyPrinter())
            .with(QEMU_ESCAPES);

    private int depth;

    /** {@code value} (String, Number, Boolean, Map in its iteration order, or List) as qemu-img prints it. */
    public static String pretty(Object value) {
        try {
            return WRITER.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("cannot write " + value.getClass() + " as JSON: " + e.getMessage(), e);
        }
    }

    @Override
    public QemuPrettyPrinter createInstance() {
        return new QemuPrettyPrinter();
    }

    private void newLine(JsonGenerator g) throws IOException {
        g.writeRaw('\n');
        g.writeRaw(INDENT.repeat(depth));
    }

    private void open(JsonGenerator g, char bracket) throws IOException {
        g.writeRaw(bracket);
        depth++;
    }

    /** Every container closes on a line of its own, even an empty one, as in qemu. */
    private void close(JsonGenerator g, char bracket) throws IOException {
        depth--;
        newLine(g);
        g.writeRaw(bracket);
    }

    private void nextLine(JsonGenerator g) throws IOException {
        g.writeRaw(',');
        newLine(g);
    }

    @Override
    public void writeRootValueSeparator(JsonGenerator g) {}

    @Override
    public void writeStartObject(JsonGenerator g) throws IOException {
        open(g, '{');
    }

    @Override
    public void beforeObjectEntries(JsonGenerator g) throws IOException {
        newLine(g);
    }

    @Override
    public void writeObjectFieldValueSeparator(JsonGenerator g) throws IOException {
        g.writeRaw(": ");
    }

    @Override
    public void writeObjectEntrySeparator(JsonGenerator g) throws IOException {
        nextLine(g);
    }

    @Override
    public void writeEndObject(JsonGenerator g, int entries) throws IOException {
        close(g, '}');
    }

    @Override
    public void writeStartArray(JsonGenerator g) throws IOException {
        open(g, '[');
    }

    @Override
    public void beforeArrayValues(JsonGenerator g) throws IOException {
        newLine(g);
    }

    @Override
    public void writeArrayValueSeparator(JsonGenerator g) throws IOException {
        nextLine(g);
    }

    @Override
    public void writeEndArray(JsonGenerator g, int values) throws IOException {
        close(g, ']');
    }
}
