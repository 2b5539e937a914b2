package io.siphon.format.qcow2;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * The feature name table header extension: 48-byte entries (type, bit, name) that let a reader
 * name feature bits it does not know.
 */
final class FeatureNameTable {
    static final int INCOMPATIBLE = 0;
    static final int COMPATIBLE = 1;
    static final int AUTOCLEAR = 2;
    private static final int ENTRY_BYTES = 48;
    private static final int NAME_BYTES = 46;

    private FeatureNameTable() {}

    /** The table QEMU 7.2 writes, naming every feature bit it defines. */
    static byte[] standard() {
        Object[][] entries = {
            {INCOMPATIBLE, 0, "dirty bit"},
            {INCOMPATIBLE, 1, "corrupt bit"},
            {INCOMPATIBLE, 2, "external data file"},
            {INCOMPATIBLE, 3, "compression type"},
            {INCOMPATIBLE, 4, "extended L2 entries"},
            {COMPATIBLE, 0, "lazy refcounts"},
            {AUTOCLEAR, 0, "bitmaps"},
            {AUTOCLEAR, 1, "raw external data"},
        };
        ByteBuffer table = ByteBuffer.allocate(entries.length * ENTRY_BYTES);
        for (Object[] entry : entries) {
            int start = table.position();
            table.put((byte) (int) entry[0]).put((byte) (int) entry[1]);
            table.put(((String) entry[2]).getBytes(StandardCharsets.US_ASCII));
            table.position(start + ENTRY_BYTES);
        }
        return table.array();
    }

    /** The name the table gives feature {@code bit} of {@code type}, if it has one. */
    static Optional<String> nameOf(byte[] table, int type, int bit) {
        for (int at = 0; at + ENTRY_BYTES <= table.length; at += ENTRY_BYTES) {
            if (table[at] == type && table[at + 1] == bit) {
                int length = 0;
                while (length < NAME_BYTES && table[at + 2 + length] != 0) {
                    length++;
                }
                return Optional.of(new String(table, at + 2, length, StandardCharsets.US_ASCII));
            }
        }
        return Optional.empty();
    }
}
