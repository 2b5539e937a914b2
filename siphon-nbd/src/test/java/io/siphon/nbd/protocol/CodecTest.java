package io.siphon.nbd.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Wire layouts of the records, byte for byte, and refusal of malformed input. */
class CodecTest {
    @Test
    void requestRoundTripsAndHasTheSpecLayout() throws Exception {
        Request request =
                new Request(CommandFlags.FUA, CommandType.WRITE.code(), 0x0102030405060708L, -1L, 0xFFFF_FFFFL);
        ByteBuffer wire = ByteBuffer.allocate(Request.BYTES);
        request.encode(wire);
        wire.flip();
        assertEquals(0x25609513, wire.getInt(0));
        assertEquals(1, wire.getShort(4));
        assertEquals(1, wire.getShort(6));
        assertEquals(0x0102030405060708L, wire.getLong(8));
        assertEquals(-1L, wire.getLong(16));
        assertEquals(-1, wire.getInt(24));
        assertEquals(request, Request.decode(wire));
    }

    @Test
    void requestWithWrongMagicIsAProtocolError() {
        ByteBuffer wire = ByteBuffer.allocate(Request.BYTES).putInt(0, 0x12345678);
        NbdProtocolException e = assertThrows(NbdProtocolException.class, () -> Request.decode(wire));
        assertEquals("bad request magic 0x12345678", e.getMessage());
    }

    @Test
    void chunkAndOptionHeadersRoundTrip() throws Exception {
        ChunkHeader chunk = new ChunkHeader(ChunkType.FLAG_DONE, ChunkType.ERROR, 99, 0xFFFF_FFF0L);
        ByteBuffer wire = ByteBuffer.allocate(ChunkHeader.BYTES);
        chunk.encode(wire);
        wire.flip();
        assertEquals(NbdMagic.STRUCTURED_REPLY, wire.getInt());
        assertEquals(chunk, ChunkHeader.decodeAfterMagic(wire));

        OptionReplyHeader reply = new OptionReplyHeader(OptionType.GO, OptionReplyType.ERR_UNKNOWN, 5);
        ByteBuffer replyWire = ByteBuffer.allocate(OptionReplyHeader.BYTES);
        reply.encode(replyWire);
        assertEquals(reply, OptionReplyHeader.decode(replyWire.flip()));

        OptionHeader option = new OptionHeader(OptionType.INFO, 4096);
        ByteBuffer optionWire = ByteBuffer.allocate(OptionHeader.BYTES);
        option.encode(optionWire);
        assertEquals(option, OptionHeader.decode(optionWire.flip()));
    }

    @Test
    void exportRequestRoundTripsAndRefusesLiesAboutLengths() throws Exception {
        ExportRequest request = new ExportRequest("disk-é", List.of(InfoType.NAME, InfoType.BLOCK_SIZE));
        assertEquals(request, ExportRequest.decode(request.encode()));
        ByteBuffer nameTooLong =
                ByteBuffer.allocate(8).putInt(100).putShort((short) 0).flip();
        assertThrows(NbdProtocolException.class, () -> ExportRequest.decode(nameTooLong));
        ByteBuffer countTooHigh =
                ByteBuffer.allocate(8).putInt(0).putShort((short) 3).flip();
        assertThrows(NbdProtocolException.class, () -> ExportRequest.decode(countTooHigh));
        ByteBuffer badUtf8 = ByteBuffer.allocate(7)
                .putInt(1)
                .put((byte) 0xff)
                .putShort((short) 0)
                .flip();
        assertThrows(NbdProtocolException.class, () -> ExportRequest.decode(badUtf8));
    }

    @Test
    void metaContextRequestRoundTripsAndRefusesTrailingBytesAndQueryFloods() throws Exception {
        MetaContextRequest request = new MetaContextRequest("disk", List.of("base:allocation", "qemu:dirty-bitmap:x"));
        assertEquals(request, MetaContextRequest.decode(request.encode()));
        ByteBuffer trailing =
                ByteBuffer.allocate(9).putInt(0).putInt(0).put((byte) 1).flip();
        assertThrows(NbdProtocolException.class, () -> MetaContextRequest.decode(trailing));
        ByteBuffer flood = ByteBuffer.allocate(8).putInt(0).putInt(1_000_000).flip();
        assertThrows(NbdProtocolException.class, () -> MetaContextRequest.decode(flood));
    }

    @Test
    void descriptorsMustFitInThirtyTwoBits() {
        assertThrows(IllegalArgumentException.class, () -> new BlockStatusDescriptor(0, 0));
        assertThrows(IllegalArgumentException.class, () -> new BlockStatusDescriptor(1L << 32, 0));
        assertEquals(0xFFFF_FFFFL, new BlockStatusDescriptor(0xFFFF_FFFFL, 3).lengthBytes());
    }
}
