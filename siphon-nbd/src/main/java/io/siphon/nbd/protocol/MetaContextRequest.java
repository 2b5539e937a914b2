package io.siphon.nbd.protocol;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * The data of NBD_OPT_LIST_META_CONTEXT and NBD_OPT_SET_META_CONTEXT: export name, then a u32 count
 * of queries, each a u32 length and a string.
 */
public record MetaContextRequest(String exportName, List<String> queries) {
    /** More queries than this in one option is an attack, not a client. */
    public static final int MAX_QUERIES = 128;

    public MetaContextRequest {
        queries = List.copyOf(queries);
    }

    public static MetaContextRequest decode(ByteBuffer data) throws NbdProtocolException {
        String name = WireStrings.readPrefixed(data, "export name");
        if (data.remaining() < 4) {
            throw new NbdProtocolException("query count is missing");
        }
        long count = Integer.toUnsignedLong(data.getInt());
        if (count > MAX_QUERIES) {
            throw new NbdProtocolException("query count " + count + " exceeds " + MAX_QUERIES);
        }
        List<String> queries = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            queries.add(WireStrings.readPrefixed(data, "query " + i));
        }
        if (data.hasRemaining()) {
            throw new NbdProtocolException(data.remaining() + " bytes follow the last query");
        }
        return new MetaContextRequest(name, queries);
    }

    public ByteBuffer encode() {
        byte[] nameBytes = WireStrings.bytes(exportName);
        List<byte[]> encoded = queries.stream().map(WireStrings::bytes).toList();
        int size = 4
                + nameBytes.length
                + 4
                + encoded.stream().mapToInt(q -> 4 + q.length).sum();
        ByteBuffer buffer = ByteBuffer.allocate(size);
        buffer.putInt(nameBytes.length).put(nameBytes).putInt(encoded.size());
        encoded.forEach(q -> buffer.putInt(q.length).put(q));
        return buffer.flip();
    }
}
