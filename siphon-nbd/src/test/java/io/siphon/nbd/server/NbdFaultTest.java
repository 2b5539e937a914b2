package io.siphon.nbd.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.format.ImageChain;
import io.siphon.format.OpenOptions;
import io.siphon.nbd.client.NbdClient;
import io.siphon.nbd.client.NbdReplyException;
import io.siphon.nbd.protocol.CommandType;
import io.siphon.nbd.protocol.NbdError;
import io.siphon.nbd.protocol.NbdMagic;
import io.siphon.nbd.testing.RawPeer;
import io.siphon.testing.FaultyBlockDevice;
import io.siphon.testing.FaultyBlockDevice.Fault;
import io.siphon.testing.FaultyBlockDevice.Op;
import io.siphon.testing.QemuTools;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Faults injected under a real qcow2 export reach NBD clients as the error codes the spec names:
 * EIO for an I/O error or a read the device did not fill, ENOSPC for a full disk (a short write
 * too), in simple and structured replies, for every request type; the connection stays usable,
 * what was acknowledged before reads back, and a slow request holds up no other client. QEMU's own
 * client (qemu-io over NBD) sees the same errors.
 */
@Tag("interop")
class NbdFaultTest {
    private static final int SIZE = 4 << 20;
    private static final long BAD = 1 << 20;

    @TempDir
    Path dir;

    private ImageChain chain;
    private FaultyBlockDevice faulty;
    private NbdServer server;
    private Path socket;
    private byte[] content;

    @BeforeEach
    void serve() throws Exception {
        Path image = dir.resolve("disk.qcow2");
        QemuTools.createQcow2(image, Integer.toString(SIZE));
        content = new byte[SIZE];
        new Random(5).nextBytes(content);
        chain = ImageChain.open(image, Optional.of("qcow2"), OpenOptions.READ_WRITE);
        chain.top().write(0, ByteBuffer.wrap(content), Set.of());
        faulty = new FaultyBlockDevice(chain.top());
        socket = dir.resolve("nbd.sock");
        server = NbdServer.builder()
                .export("disk", faulty, false)
                .listenUnix(socket)
                .build()
                .start();
    }

    @AfterEach
    void stop() throws Exception {
        server.close();
        chain.close();
    }

    /** Each fault on each request type, seen through Siphon's client (structured replies for reads and status). */
    @ParameterizedTest(name = "{0} on {1} is {2}")
    @CsvSource({
        "EIO, READ, EIO",
        "SHORT, READ, EIO",
        "ENOSPC, WRITE, ENOSPC",
        "SHORT, WRITE, ENOSPC",
        "EIO, WRITE, EIO",
        "ENOSPC, WRITE_ZEROES, ENOSPC",
        "EIO, DISCARD, EIO",
        "EIO, FLUSH, EIO",
        "EIO, BLOCK_STATUS, EIO"
    })
    void theClientSeesTheErrorAndTheConnectionGoesOn(Fault fault, Op op, String errorName) throws Exception {
        try (NbdClient client = NbdClient.connect(server.uri("disk"))) {
            byte[] acknowledged = new byte[4096];
            new Random(6).nextBytes(acknowledged);
            client.write(3 << 20, ByteBuffer.wrap(acknowledged), false);
            client.flush();
            System.arraycopy(acknowledged, 0, content, 3 << 20, 4096);
            FaultyBlockDevice.Rule rule = faulty.inject(fault, Set.of(op), op == Op.FLUSH ? 0 : BAD, 65536, 1);
            NbdReplyException e = assertThrows(NbdReplyException.class, () -> send(client, op));
            assertEquals(errorName, e.errorName());
            assertEquals(1, rule.fired());
            ByteBuffer after = ByteBuffer.allocate(SIZE);
            client.read(0, after);
            if (op != Op.READ && op != Op.BLOCK_STATUS && op != Op.FLUSH) {
                // a failed write may have stored part of its data (as a disk may): leave that range out
                Arrays.fill(after.array(), (int) BAD, (int) BAD + 65536, (byte) 0);
                Arrays.fill(content, (int) BAD, (int) BAD + 65536, (byte) 0);
            }
            assertArrayEquals(content, after.array(), "after the fault, the connection serves the right data");
        }
    }

    private static void send(NbdClient client, Op op) throws Exception {
        switch (op) {
            case READ -> client.read(BAD, ByteBuffer.allocate(65536));
            case WRITE -> client.write(BAD, ByteBuffer.allocate(65536), false);
            case WRITE_ZEROES -> client.writeZeroes(BAD, 65536, 0);
            case DISCARD -> client.trim(BAD, 65536);
            case FLUSH -> client.flush();
            case BLOCK_STATUS -> client.blockStatus(BAD, 65536);
        }
    }

    /** Simple replies carry the same codes, and a short read is an error, not a short reply that desyncs. */
    @Test
    void simpleRepliesCarryTheCodesAndStayInStep() throws Exception {
        faulty.inject(Fault.SHORT, Set.of(Op.READ), BAD, 65536, 1);
        faulty.inject(Fault.ENOSPC, Set.of(Op.WRITE), BAD, 65536, 1);
        try (RawPeer peer = RawPeer.transmission(socket, "disk", false)) {
            peer.request(0, CommandType.READ.code(), 1, BAD, 65536);
            expectSimple(peer, 1, NbdError.EIO);
            peer.request(0, CommandType.WRITE.code(), 2, BAD, 4096);
            peer.send(new byte[4096]);
            expectSimple(peer, 2, NbdError.ENOSPC);
            peer.request(0, CommandType.READ.code(), 3, 0, 4096);
            expectSimple(peer, 3, null);
            assertArrayEquals(
                    Arrays.copyOf(content, 4096), peer.readExactly(4096).array(), "in step after the errors");
        }
    }

    private static void expectSimple(RawPeer peer, long cookie, NbdError error) throws Exception {
        ByteBuffer reply = peer.readExactly(16);
        assertEquals(NbdMagic.SIMPLE_REPLY, reply.getInt());
        assertEquals(error == null ? 0 : error.code(), reply.getInt());
        assertEquals(cookie, reply.getLong());
    }

    /** A request held up by a slow device holds up no other client. */
    @Test
    void aSlowRequestHoldsUpNoOtherClient() throws Exception {
        faulty.slow(Duration.ofSeconds(3), Set.of(Op.READ), BAD, 4096, 1);
        try (NbdClient slow = NbdClient.connect(server.uri("disk"));
                NbdClient other = NbdClient.connect(server.uri("disk"))) {
            CompletableFuture<byte[]> held = CompletableFuture.supplyAsync(() -> {
                ByteBuffer buffer = ByteBuffer.allocate(4096);
                try {
                    slow.read(BAD, buffer);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
                return buffer.array();
            });
            ByteBuffer quick = ByteBuffer.allocate(4096);
            other.read(0, quick);
            assertFalse(held.isDone(), "the other client was answered while the slow read waited");
            assertArrayEquals(Arrays.copyOf(content, 4096), quick.array());
            assertArrayEquals(Arrays.copyOfRange(content, (int) BAD, (int) BAD + 4096), held.get(30, TimeUnit.SECONDS));
        }
    }

    /** QEMU's client over NBD reports the same errors, and its next request on the connection works. */
    @Test
    void qemuIoSeesEioAndEnospc() throws Exception {
        byte[] pattern = new byte[4096];
        Arrays.fill(pattern, (byte) 0x5a);
        chain.top().write(2 << 20, ByteBuffer.wrap(pattern), Set.of());
        faulty.inject(Fault.EIO, Set.of(Op.READ), BAD, 65536, 1);
        faulty.inject(Fault.ENOSPC, Set.of(Op.WRITE), BAD, 65536, 1);
        QemuTools.Result result = QemuTools.run(
                "qemu-io",
                "-f",
                "raw",
                "-c",
                "read " + BAD + " 4k",
                "-c",
                "write " + BAD + " 4k",
                "-c",
                "read -P 0x5a 2M 4k",
                server.uri("disk"));
        String out = result.stdout() + result.stderr();
        assertTrue(out.contains("read failed: Input/output error"), out);
        assertTrue(out.contains("write failed: No space left on device"), out);
        assertFalse(out.contains("Pattern verification failed"), out);
    }
}
