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
import io.siphon.net.PemTls;
import io.siphon.net.testing.Pki;
import io.siphon.testing.QemuTools;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
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

    private static Pki pki;
    private static Path serverCreds;
    private static Path clientCreds;
    private ImageChain disk;
    private NbdServer server;
    private byte[] content;

    /** A CA, a server certificate for localhost and 127.0.0.1 signed by it, and a client dir with the CA only. */
    static Pki makeCertificates(Path dir, Path serverCreds, Path clientCreds) throws Exception {
        Pki pki = new Pki(dir);
        qemuLayout(pki, pki.leaf("server", Pki.KeyForm.PKCS8_EC), serverCreds);
        Files.createDirectories(clientCreds);
        Files.copy(pki.cert("ca"), clientCreds.resolve("ca-cert.pem"));
        return pki;
    }

    /** Server credentials from the test's CA with a PKCS#1 RSA key ({@code BEGIN RSA PRIVATE KEY}). */
    private Path pkcs1ServerCreds() throws Exception {
        return qemuLayout(pki, pki.leaf("pkcs1-server", Pki.KeyForm.PKCS1_RSA), dir.resolve("pkcs1-server"));
    }

    /** {@code server} and the CA as QEMU's tls-creds-x509 lays them out in {@code creds}. */
    private static Path qemuLayout(Pki pki, PemTls.Identity server, Path creds) throws Exception {
        Files.createDirectories(creds);
        Files.copy(server.certificateChain(), creds.resolve("server-cert.pem"));
        Files.copy(server.privateKey(), creds.resolve("server-key.pem"));
        Files.copy(pki.cert("ca"), creds.resolve("ca-cert.pem"));
        return creds;
    }

    @BeforeAll
    static void certificates() throws Exception {
        serverCreds = certificates.resolve("server");
        clientCreds = certificates.resolve("client");
        pki = makeCertificates(certificates.resolve("pki"), serverCreds, clientCreds);
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
        qemuImgAndNbdinfoConnect(server.tcpPort());
    }

    @Test
    void aPkcs1RsaServerKeyServesQemuImgNbdinfoAndSiphon() throws Exception {
        try (NbdServer pkcs1 = NbdServer.builder()
                .export("disk", disk.top(), false)
                .listenTcp("127.0.0.1", 0, Optional.of(TlsCredentials.server(pkcs1ServerCreds())))
                .build()
                .start()) {
            qemuImgAndNbdinfoConnect(pkcs1.tcpPort());
            try (NbdClient client =
                    NbdClient.connect(pkcs1.uri("disk"), Optional.of(TlsCredentials.client(clientCreds)))) {
                ByteBuffer all = ByteBuffer.allocate(SIZE);
                client.read(0, all);
                assertArrayEquals(content, all.array());
            }
        }
    }

    /** qemu-img compares the export on {@code port} with the content; nbdinfo sees TLS. */
    private void qemuImgAndNbdinfoConnect(int port) throws Exception {
        QemuTools.require("qemu-img", "nbdinfo");
        Path reference = dir.resolve("reference.raw");
        Files.write(reference, content);
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
