package io.siphon.nbd.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.format.ImageChain;
import io.siphon.format.OpenOptions;
import io.siphon.nbd.client.NbdClient;
import io.siphon.nbd.protocol.ChunkHeader;
import io.siphon.nbd.protocol.ChunkType;
import io.siphon.nbd.protocol.CommandType;
import io.siphon.nbd.protocol.NbdMagic;
import io.siphon.nbd.testing.RandomDisk;
import io.siphon.nbd.testing.RawPeer;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Requests of one connection run concurrently, reply out of order, and hold bounded memory. */
class ConcurrencyTest {
    @TempDir
    Path dir;

    @Test
    void laterRequestsOvertakeASlowOneAndEveryReplyCarriesItsOwnData() throws Exception {
        byte[] content = RandomDisk.content(System.nanoTime(), 1 << 20);
        try (ImageChain chain = RandomDisk.open(dir.resolve("disk.raw"), content)) {
            HeldReads gated = new HeldReads(chain.top(), offset -> offset == 0);
            Path socket = dir.resolve("nbd.sock");
            try (NbdServer server = NbdServer.builder()
                            .export("disk", gated, false)
                            .listenUnix(socket)
                            .build()
                            .start();
                    RawPeer peer = RawPeer.transmission(socket, "disk", true)) {
                int requests = 64;
                for (int i = 0; i < requests; i++) {
                    peer.request(0, CommandType.READ.code(), i, i * 4096L, 4096);
                }
                List<Long> order = new ArrayList<>();
                for (int i = 0; i < requests; i++) {
                    if (i == requests - 1) {
                        assertEquals(Set.of(0L), missing(order, requests), "only the gated read is outstanding");
                        gated.release();
                    }
                    ByteBuffer header = peer.readExactly(ChunkHeader.BYTES);
                    assertEquals(NbdMagic.STRUCTURED_REPLY, header.getInt());
                    ChunkHeader chunk = ChunkHeader.decodeAfterMagic(header);
                    assertEquals(ChunkType.OFFSET_DATA, chunk.type());
                    ByteBuffer payload = peer.readExactly((int) chunk.lengthBytes());
                    long offset = payload.getLong();
                    assertEquals(chunk.cookie() * 4096, offset);
                    byte[] data = new byte[payload.remaining()];
                    payload.get(data);
                    assertArrayEquals(java.util.Arrays.copyOfRange(content, (int) offset, (int) offset + 4096), data);
                    order.add(chunk.cookie());
                }
                assertEquals(0L, order.getLast(), "the gated read replied last");
            }
        }
    }

    private static Set<Long> missing(List<Long> seen, int count) {
        Set<Long> missing = new HashSet<>();
        for (long i = 0; i < count; i++) {
            missing.add(i);
        }
        seen.forEach(missing::remove);
        return missing;
    }

    @Test
    void pipelinedReadsFarBeyondTheHeapAreServedWithBoundedMemory() throws Exception {
        // 24 reads of 32 MiB = 768 MiB of replies requested at once; the test JVM has 512 MiB.
        Path file = dir.resolve("sparse.raw");
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.setLength(64L << 20);
            raf.seek(5);
            raf.write(0x77);
        }
        try (ImageChain chain = ImageChain.open(file, Optional.of("raw"), OpenOptions.READ_ONLY)) {
            Path socket = dir.resolve("nbd.sock");
            try (NbdServer server = NbdServer.builder()
                            .export("disk", chain.top(), true)
                            .listenUnix(socket)
                            .build()
                            .start();
                    RawPeer peer = RawPeer.transmission(socket, "disk", false)) {
                int requests = 24;
                int length = WireLimits.MAX_PAYLOAD_BYTES;
                for (int i = 0; i < requests; i++) {
                    peer.request(0, CommandType.READ.code(), i, (i % 2) * (long) length, length);
                }
                Set<Long> cookies = new HashSet<>();
                for (int i = 0; i < requests; i++) {
                    ByteBuffer header = peer.readExactly(16);
                    assertEquals(NbdMagic.SIMPLE_REPLY, header.getInt());
                    assertEquals(0, header.getInt());
                    long cookie = header.getLong();
                    assertTrue(cookies.add(cookie));
                    ByteBuffer data = peer.readExactly(length);
                    assertEquals(cookie % 2 == 0 ? 0x77 : 0, data.get(5));
                }
                assertEquals(requests, cookies.size());
            }
            // and the server still serves afterwards
            try (NbdServer server = NbdServer.builder()
                            .export("disk", chain.top(), true)
                            .listenUnix(dir.resolve("again.sock"))
                            .build()
                            .start();
                    NbdClient client = NbdClient.connect(server.uri("disk"))) {
                ByteBuffer one = ByteBuffer.allocate(8);
                client.read(0, one);
                assertEquals(0x77, one.get(5));
            }
        }
    }
}
