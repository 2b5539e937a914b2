package io.siphon.nbd.protocol;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * The data of NBD_OPT_INFO and NBD_OPT_GO: export name (u32 length + bytes), then a u16 count of
 * requested information items, each a u16 {@link InfoType}.
 */
public record ExportRequest(String name, List<Integer> infoRequests) {
    public ExportRequest {
        infoRequests = List.copyOf(infoRequests);
    }

    public static ExportRequest decode(ByteBuffer data) throws NbdProtocolException {
        String name = WireStrings.readPrefixed(data, "export name");
        if (data.remaining() < 2) {
            throw new NbdProtocolException("information request count is missing");
        }
        int count = Short.toUnsignedInt(data.getShort());
        if (data.remaining() != count * 2) {
            throw new NbdProtocolException(
                    count + " information requests announced, " + data.remaining() + " bytes follow");
        }
        List<Integer> items = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            items.add(Short.toUnsignedInt(data.getShort()));
        }
        return new ExportRequest(name, items);
    }

    public ByteBuffer encode() {
        byte[] nameBytes = WireStrings.bytes(name);
        ByteBuffer buffer = ByteBuffer.allocate(4 + nameBytes.length + 2 + 2 * infoRequests.size());
        buffer.putInt(nameBytes.length).put(nameBytes).putShort((short) infoRequests.size());
        infoRequests.forEach(item -> buffer.putShort(item.shortValue()));
        return buffer.flip();
    }
}
