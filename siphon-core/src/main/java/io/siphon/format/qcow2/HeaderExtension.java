package io.siphon.format.qcow2;

import java.util.Arrays;

/**
 * One header extension as stored after the qcow2 header: a 4-byte type, a 4-byte length, the data
 * and padding to 8 bytes.
 */
record HeaderExtension(int type, byte[] data) {
    static final int END = 0;
    static final int BACKING_FORMAT = 0xe2792aca;
    static final int FEATURE_TABLE = 0x6803f857;
    static final int BITMAPS = 0x23852875;
    static final int ENCRYPTION = 0x0537be77;
    static final int EXTERNAL_DATA_FILE = 0x44415441;

    HeaderExtension {
        data = data.clone();
    }

    @Override
    public byte[] data() {
        return data.clone();
    }

    /** Bytes this extension takes on disk, with its type, length and padding. */
    int encodedLength() {
        return 8 + ((data.length + 7) & ~7);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof HeaderExtension other && other.type == type && Arrays.equals(other.data, data);
    }

    @Override
    public int hashCode() {
        return 31 * type + Arrays.hashCode(data);
    }

    @Override
    public String toString() {
        return "HeaderExtension[" + Errors.hex(type & 0xffffffffL) + ", " + data.length + " bytes]";
    }
}
