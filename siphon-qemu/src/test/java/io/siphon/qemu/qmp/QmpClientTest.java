package io.siphon.qemu.qmp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.siphon.api.ErrorCode;
import io.siphon.api.SiphonException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The QMP client against a real qemu-storage-daemon, and against a silent peer for the error paths. */
@Tag("interop")
class QmpClientTest {
    @TempDir
    Path dir;

    private Process daemon;

    @AfterEach
    void stopDaemon() throws InterruptedException {
        if (daemon != null) {
            daemon.destroyForcibly();
            daemon.waitFor();
        }
    }

    private QmpClient startDaemon() throws IOException, InterruptedException {
        Path socket = dir.resolve("qmp.sock");
        daemon = new ProcessBuilder(
                        "qemu-storage-daemon",
                        "--chardev",
                        "socket,id=m,path=" + socket + ",server=on,wait=off",
                        "--monitor",
                        "chardev=m")
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("log").toFile())
                .start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            try {
                return QmpClient.connect(socket, Duration.ofSeconds(10));
            } catch (SiphonException e) {
                if (System.nanoTime() > deadline) {
                    throw e;
                }
                Thread.sleep(10); // the socket appears shortly after exec: poll for it
            }
        }
    }

    @Test
    void negotiatesAndRunsTypedCommands() throws Exception {
        try (QmpClient qmp = startDaemon()) {
            assertTrue(
                    qmp.greeting().path("version").path("qemu").has("major"),
                    qmp.greeting().toString());
            QmpCommand.VersionReply version = qmp.execute(new QmpCommand.QueryVersion());
            assertTrue(version.qemu().major() >= 6, () -> "QEMU " + version.qemu());
            Path image = Files.write(dir.resolve("disk.raw"), new byte[1 << 20]);
            qmp.execute(QmpCommand.BlockdevAdd.file("f0", image, true));
            qmp.execute(QmpCommand.BlockdevAdd.format("d0", "raw", "f0", java.util.Optional.empty(), true));
            QmpCommand.NamedNodeReply[] nodes = qmp.execute(new QmpCommand.QueryNamedBlockNodes(true));
            assertEquals(2, nodes.length);
            assertTrue(java.util.Arrays.stream(nodes).allMatch(QmpCommand.NamedNodeReply::ro));
            assertEquals(0, qmp.execute(new QmpCommand.QueryBlockJobs()).length);
        }
    }

    @Test
    void aRefusalCarriesQemusErrorClassAndDescription() throws Exception {
        try (QmpClient qmp = startDaemon()) {
            SiphonException e =
                    assertThrows(SiphonException.class, () -> qmp.execute(new QmpCommand.BlockdevDel("no-such-node")));
            assertEquals(ErrorCode.OPERATION_FAILED, e.code());
            QmpErrorException refusal = QmpErrorException.of(e).orElseThrow();
            assertEquals("GenericError", refusal.errorClass());
            assertEquals("blockdev-del", refusal.command());
            assertTrue(refusal.desc().contains("no-such-node"), refusal.desc());
            assertTrue(e.getMessage().contains(refusal.desc()), e.getMessage());
            SiphonException notFound =
                    assertThrows(SiphonException.class, () -> qmp.execute(new QmpCommand.BlockJobPause("no-job")));
            assertEquals(
                    "DeviceNotActive",
                    QmpErrorException.of(notFound).orElseThrow().errorClass());
            // the connection is still good after refusals
            qmp.execute(new QmpCommand.QueryBlockJobs());
        }
    }

    @Test
    void eventsReachListenersInOrder() throws Exception {
        try (QmpClient qmp = startDaemon()) {
            BlockingQueue<QmpEvent> events = new LinkedBlockingQueue<>();
            qmp.addEventListener(events::add);
            Path image = Files.write(dir.resolve("disk.raw"), new byte[1 << 20]);
            qmp.execute(QmpCommand.BlockdevAdd.file("f0", image, false));
            qmp.execute(QmpCommand.NbdServerStart.unix(dir.resolve("nbd.sock")));
            qmp.execute(QmpCommand.BlockExportAdd.nbd("e0", "f0", "disk", true));
            qmp.execute(new QmpCommand.BlockExportDel("e0"));
            QmpEvent event = events.poll(10, TimeUnit.SECONDS);
            assertEquals("BLOCK_EXPORT_DELETED", event == null ? "none" : event.name());
            assertEquals("e0", event.data().path("id").asText());
        }
    }

    @Test
    void aKilledProcessFailsCallsAndCompletesClosed() throws Exception {
        QmpClient qmp = startDaemon();
        daemon.destroyForcibly();
        SiphonException end = qmp.closed().get(10, TimeUnit.SECONDS);
        assertEquals(ErrorCode.CONNECTION_FAILED, end.code());
        assertTrue(end.getMessage().contains("qmp.sock"), end.getMessage());
        SiphonException e = assertThrows(SiphonException.class, () -> qmp.execute(new QmpCommand.QueryBlockJobs()));
        assertEquals(ErrorCode.CONNECTION_FAILED, e.code());
    }

    /** A peer that greets, accepts qmp_capabilities, then reads commands without answering until closed. */
    private static final class SilentPeer implements AutoCloseable {
        final ServerSocketChannel server;
        final CompletableFuture<SocketChannel> accepted = new CompletableFuture<>();
        final BlockingQueue<String> commands = new LinkedBlockingQueue<>();

        SilentPeer(Path socket) throws IOException {
            server = ServerSocketChannel.open(java.net.StandardProtocolFamily.UNIX);
            server.bind(UnixDomainSocketAddress.of(socket));
            Thread.ofVirtual().start(this::serve);
        }

        private void serve() {
            try {
                SocketChannel peer = server.accept();
                accepted.complete(peer);
                OutputStream out = Channels.newOutputStream(peer);
                out.write("{\"QMP\": {\"version\": {}, \"capabilities\": []}}\r\n".getBytes(StandardCharsets.UTF_8));
                InputStream in = Channels.newInputStream(peer);
                var messages = QmpJson.MAPPER.readerFor(JsonNode.class).<JsonNode>readValues(in);
                JsonNode capabilities = messages.nextValue();
                out.write(("{\"return\": {}, \"id\": " + capabilities.get("id") + "}\n")
                        .getBytes(StandardCharsets.UTF_8));
                while (messages.hasNextValue()) {
                    commands.add(messages.nextValue().get("execute").asText());
                }
            } catch (IOException | RuntimeException e) {
                commands.add("failed: " + e);
            }
        }

        @Override
        public void close() throws IOException {
            server.close();
        }
    }

    @Test
    void aCommandWithoutReplyTimesOutAndAClosedSocketFailsTheWaitingCall() throws Exception {
        Path socket = dir.resolve("silent.sock");
        try (SilentPeer peer = new SilentPeer(socket);
                QmpClient qmp = QmpClient.connect(socket, Duration.ofSeconds(10))) {
            SiphonException timeout = assertThrows(
                    SiphonException.class, () -> qmp.execute(new QmpCommand.QueryBlockJobs(), Duration.ofMillis(200)));
            assertEquals(ErrorCode.OPERATION_FAILED, timeout.code());
            assertTrue(timeout.getMessage().contains("query-block-jobs"), timeout.getMessage());
            assertEquals("query-block-jobs", peer.commands.poll(10, TimeUnit.SECONDS));
            CompletableFuture<SiphonException> waiting = CompletableFuture.supplyAsync(() -> assertThrows(
                    SiphonException.class, () -> qmp.execute(new QmpCommand.QueryVersion(), Duration.ofSeconds(30))));
            // the call is in flight once the peer has read it; closing the peer must fail it, not time it out
            assertEquals("query-version", peer.commands.poll(10, TimeUnit.SECONDS));
            peer.accepted.get(10, TimeUnit.SECONDS).close();
            SiphonException lost = waiting.get(10, TimeUnit.SECONDS);
            assertEquals(ErrorCode.CONNECTION_FAILED, lost.code(), lost.getMessage());
        }
    }
}
