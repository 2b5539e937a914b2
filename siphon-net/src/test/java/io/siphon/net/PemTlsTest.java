package io.siphon.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.net.testing.Pki;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** PEM files made by openssl, through a real mutual-TLS handshake on a {@link Listener}. */
class PemTlsTest {
    @TempDir
    Path dir;

    private Pki pki;

    @BeforeEach
    void ca() throws Exception {
        pki = new Pki(dir);
    }

    @ParameterizedTest
    @EnumSource(Pki.KeyForm.class)
    void everyKeyFormServesAndAuthenticatesOverTls13(Pki.KeyForm form) throws Exception {
        PemTls.Identity server = pki.leaf("server", form);
        PemTls.Identity client = pki.leaf("client", form);
        SSLContext serverContext = PemTls.mutual(server.certificateChain(), server.privateKey(), pki.cert("ca"));
        SSLContext clientContext = PemTls.mutual(client.certificateChain(), client.privateKey(), pki.cert("ca"));
        try (Listener listener = Listener.tcp(new InetSocketAddress("127.0.0.1", 0))) {
            CompletableFuture<SSLSession> served = serveOne(listener, serverContext);
            try (SSLSocket socket = TlsPolicy.clientSocket(
                    clientContext, Connect.tcp("localhost", listener.tcpPort()), "localhost", listener.tcpPort())) {
                socket.getOutputStream().write(42);
                assertEquals(43, socket.getInputStream().read());
                assertEquals("TLSv1.3", socket.getSession().getProtocol());
                assertEquals("CN=server", socket.getSession().getPeerPrincipal().getName());
            }
            SSLSession session = served.get(30, TimeUnit.SECONDS);
            assertEquals("CN=client", session.getPeerPrincipal().getName());
        }
    }

    /** Accepts one connection, requires a client certificate, answers one byte with the next. */
    private static CompletableFuture<SSLSession> serveOne(Listener listener, SSLContext context) {
        CompletableFuture<SSLSession> served = new CompletableFuture<>();
        listener.start(
                "test-accept",
                channel -> Thread.ofVirtual().start(() -> {
                    try (SSLSocket socket = TlsPolicy.serverSocket(context, channel, true)) {
                        int b = socket.getInputStream().read();
                        socket.getOutputStream().write(b + 1);
                        socket.getOutputStream().flush();
                        served.complete(socket.getSession());
                    } catch (IOException | RuntimeException e) {
                        served.completeExceptionally(e);
                    }
                }));
        return served;
    }

    @Test
    void aClientWithoutACertificateOrWithTls12IsRefused() throws Exception {
        PemTls.Identity server = pki.leaf("server", Pki.KeyForm.PKCS1_RSA);
        SSLContext serverContext = PemTls.mutual(server.certificateChain(), server.privateKey(), pki.cert("ca"));
        SSLContext anonymous = PemTls.context(Optional.empty(), Optional.of(pki.cert("ca")));
        try (Listener listener = Listener.tcp(new InetSocketAddress("127.0.0.1", 0))) {
            CompletableFuture<SSLSession> served = serveOne(listener, serverContext);
            int port = listener.tcpPort();
            assertThrows(IOException.class, () -> {
                try (SSLSocket socket =
                        TlsPolicy.clientSocket(anonymous, Connect.tcp("localhost", port), "localhost", port)) {
                    socket.getOutputStream().write(1);
                    socket.getInputStream().read(); // TLS 1.3 reports a refused certificate after the handshake
                }
            });
            assertThrows(Exception.class, () -> served.get(30, TimeUnit.SECONDS));
        }
        try (Listener listener = Listener.tcp(new InetSocketAddress("127.0.0.1", 0))) {
            CompletableFuture<SSLSession> served = serveOne(listener, serverContext);
            int port = listener.tcpPort();
            SSLContext jdk = SSLContext.getInstance("TLS");
            jdk.init(null, null, null);
            try (SSLSocket old = (SSLSocket) jdk.getSocketFactory().createSocket("127.0.0.1", port)) {
                old.setEnabledProtocols(new String[] {"TLSv1.2"});
                assertThrows(IOException.class, old::startHandshake);
            }
            IOException refused = assertThrows(IOException.class, () -> {
                try {
                    served.get(30, TimeUnit.SECONDS);
                } catch (java.util.concurrent.ExecutionException e) {
                    throw e.getCause();
                }
            });
            assertTrue(refused.getMessage().contains("protocol"), refused::getMessage);
        }
    }

    @Test
    void theServerNameIsChecked() throws Exception {
        PemTls.Identity server = pki.leaf("server", Pki.KeyForm.SEC1_EC);
        SSLContext serverContext = PemTls.mutual(server.certificateChain(), server.privateKey(), pki.cert("ca"));
        PemTls.Identity client = pki.leaf("client", Pki.KeyForm.PKCS8_EC);
        SSLContext clientContext = PemTls.mutual(client.certificateChain(), client.privateKey(), pki.cert("ca"));
        try (Listener listener = Listener.tcp(new InetSocketAddress("127.0.0.1", 0))) {
            serveOne(listener, serverContext);
            int port = listener.tcpPort();
            // the certificate names localhost and 127.0.0.1, not this
            assertThrows(
                    IOException.class,
                    () -> TlsPolicy.clientSocket(clientContext, Connect.tcp("127.0.0.1", port), "siphon.invalid", port)
                            .close());
        }
    }

    @Test
    void encryptedMissingAndForeignKeysAreErrorsNamingTheFile() throws Exception {
        pki.key("plain", Pki.KeyForm.PKCS1_RSA);
        Path encrypted = dir.resolve("encrypted-key.pem");
        pki.openssl(
                "pkey",
                "-in",
                pki.key("plain").toString(),
                "-aes256",
                "-passout",
                "pass:secret",
                "-out",
                encrypted.toString());
        IOException e = assertThrows(IOException.class, () -> PemReader.privateKey(encrypted));
        assertTrue(e.getMessage().startsWith(encrypted + ": the private key is encrypted"), e::getMessage);

        e = assertThrows(IOException.class, () -> PemReader.privateKey(pki.cert("ca")));
        assertTrue(e.getMessage().startsWith(pki.cert("ca") + ": no PEM private key"), e::getMessage);

        Path garbage = Files.writeString(
                dir.resolve("garbage.pem"),
                "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n" + "-----END RSA PRIVATE KEY-----\n");
        e = assertThrows(IOException.class, () -> PemReader.privateKey(garbage));
        assertTrue(e.getMessage().startsWith(garbage + ": malformed PEM"), e::getMessage);

        e = assertThrows(IOException.class, () -> PemReader.certificates(pki.key("plain")));
        assertTrue(e.getMessage().startsWith(pki.key("plain") + ":"), e::getMessage);
    }
}
