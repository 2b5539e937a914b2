package io.siphon.nbd.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.format.ImageChain;
import io.siphon.nbd.client.NbdClient;
import io.siphon.nbd.client.NbdReplyException;
import io.siphon.nbd.protocol.OptionReplyType;
import io.siphon.nbd.protocol.TlsCredentials;
import io.siphon.nbd.testing.RandomDisk;
import io.siphon.testing.QemuTools;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** STARTTLS on a TCP listener with X.509 certificates made by openssl for the test. */
@Tag("interop")
class TlsTest {
    private static final int SIZE = 2 << 20;

    @TempDir
    Path dir;

    @TempDir
    static Path certificates;

    private static Path serverCreds;
    private static Path clientCreds;
    private ImageChain disk;
    private NbdServer server;
    private byte[] content;

    /** A CA, a server certificate for localhost and 127.0.0.1 signed by it, and a client dir with the CA only. */
    static void makeCertificates(Path dir, Path serverCreds, Path clientCreds) throws Exception {
        Files.createDirectories(dir);
        Files.createDirectories(serverCreds);
        Files.createDirectories(clientCreds);
        String ca = dir.resolve("ca-cert.pem").toString();
        String caKey = dir.resolve("ca-key.pem").toString();
        newKeyRequest(caKey, ca, "-x509", "-days", "2", "-subj", "/CN=Siphon test CA");
        Path extensions = dir.resolve("server.ext");
        Files.writeString(
                extensions,
                "subjectAltName=DNS:localhost,IP:127.0.0.1\n"
                        + "extendedKeyUsage=serverAuth\nkeyUsage=digitalSignature\n");
        String key = serverCreds.resolve("server-key.pem").toString();
        String csr = dir.resolve("server.csr").toString();
        newKeyRequest(key, csr, "-subj", "/CN=localhost");
        QemuTools.ok(
                "openssl",
                "x509",
                "-req",
                "-in",
                csr,
                "-CA",
                ca,
                "-CAkey",
                caKey,
                "-CAcreateserial",
                "-days",
                "2",
                "-out",
                serverCreds.resolve("server-cert.pem").toString(),
                "-extfile",
                extensions.toString());
        Files.copy(Path.of(ca), serverCreds.resolve("ca-cert.pem"));
        Files.copy(Path.of(ca), clientCreds.resolve("ca-cert.pem"));
    }

    /** Runs {@code openssl req} that makes a new P-256 key into {@code key} and writes {@code out}. */
    private static void newKeyRequest(String key, String out, String... more) throws Exception {
        List<String> command = new ArrayList<>(List.of(
                "openssl",
                "req",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-keyout",
                key,
                "-out",
                out));
        command.addAll(List.of(more));
        QemuTools.ok(command.toArray(String[]::new));
    }

    @BeforeAll
    static void certificates() throws Exception {
        QemuTools.require("openssl");
        serverCreds = certificates.resolve("server");
        clientCreds = certificates.resolve("client");
        makeCertificates(certificates, serverCreds, clientCreds);
    }

    @BeforeEach
    void serve() throws Exception {
        content = RandomDisk.content(System.nanoTime(), SIZE);
        disk = RandomDisk.open(dir.resolve("disk.raw"), content);
        server = NbdServer.builder()
                .export("disk", disk.top(), false)
                .listenTcp("127.0.0.1", 0, Optional.of(TlsCredentials.server(serverCreds)))
                .build()
                .start();
    }

    @AfterEach
    void stop() throws Exception {
        if (server != null) {
            server.close();
        }
        if (disk != null) {
            disk.close();
        }
    }

    @Test
    void uriSaysNbds() throws Exception {
        assertEquals("nbds://127.0.0.1:" + server.tcpPort() + "/disk", server.uri("disk"));
    }

    @Test
    void siphonClientReadsAndWritesOverTls() throws Exception {
        SSLContext tls = TlsCredentials.client(clientCreds);
        try (NbdClient client = NbdClient.connect(server.uri("disk"), Optional.of(tls))) {
            ByteBuffer all = ByteBuffer.allocate(SIZE);
            client.read(0, all);
            assertArrayEquals(content, all.array());
            byte[] block = new byte[100_000];
            new Random(7).nextBytes(block);
            client.write(12345, ByteBuffer.wrap(block), true);
            ByteBuffer back = ByteBuffer.allocate(block.length);
            client.read(12345, back);
            assertArrayEquals(block, back.array());
        }
    }

    @Test
    void plaintextClientsAreToldTlsIsRequired() throws Exception {
        String plain = server.uri("disk").replace("nbds://", "nbd://");
        NbdReplyException refused = assertThrows(NbdReplyException.class, () -> NbdClient.connect(plain));
        assertEquals(OptionReplyType.ERR_TLS_REQD, refused.errorCode());
        QemuTools.Result info = QemuTools.run("nbdinfo", plain);
        assertTrue(info.exitCode() != 0, info.stdout());
    }

    @Test
    void aClientThatDoesNotTrustTheServerFailsAndTheServerGoesOn() throws Exception {
        Path strangers = dir.resolve("strangers");
        makeCertificates(dir.resolve("other"), dir.resolve("other-server"), strangers);
        assertThrows(
                IOException.class,
                () -> NbdClient.connect(server.uri("disk"), Optional.of(TlsCredentials.client(strangers))));
        try (NbdClient client =
                NbdClient.connect(server.uri("disk"), Optional.of(TlsCredentials.client(clientCreds)))) {
            assertEquals(SIZE, client.sizeBytes());
        }
    }

    @Test
    void qemuImgAndNbdinfoConnectWithTls() throws Exception {
        QemuTools.require("qemu-img", "nbdinfo");
        Path reference = dir.resolve("reference.raw");
        Files.write(reference, content);
        int port = server.tcpPort();
        String nbd = "json:{\"driver\":\"raw\",\"file\":{\"driver\":\"nbd\",\"host\":\"127.0.0.1\"," + "\"port\":\""
                + port + "\",\"export\":\"disk\",\"tls-creds\":\"tls0\"}}";
        QemuTools.ok(
                "qemu-img",
                "compare",
                "--object",
                "tls-creds-x509,id=tls0,endpoint=client,dir=" + clientCreds,
                "-F",
                "raw",
                nbd,
                reference.toString());
        String info = QemuTools.ok("nbdinfo", "nbds://127.0.0.1:" + port + "/disk?tls-certificates=" + clientCreds);
        assertTrue(info.contains("with TLS"), info);
    }
}
