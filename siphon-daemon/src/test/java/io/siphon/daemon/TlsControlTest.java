package io.siphon.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.siphon.api.Connection;
import io.siphon.api.ErrorCode;
import io.siphon.api.Siphon;
import io.siphon.api.SiphonException;
import io.siphon.testing.QemuTools;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The control protocol over TCP with mutual TLS, with certificates made by openssl. */
class TlsControlTest {
    @TempDir
    Path dir;

    private Path file(String name) {
        return dir.resolve(name);
    }

    private void key(String name) throws Exception {
        QemuTools.ok(
                "openssl",
                "genpkey",
                "-algorithm",
                "EC",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-out",
                file(name + "-key.pem").toString());
    }

    private void ca(String name) throws Exception {
        key(name);
        QemuTools.ok(
                "openssl",
                "req",
                "-x509",
                "-new",
                "-key",
                file(name + "-key.pem").toString(),
                "-subj",
                "/CN=" + name,
                "-days",
                "2",
                "-out",
                file(name + "-cert.pem").toString());
    }

    /** A certificate for {@code name} signed by {@code ca}, valid for localhost and 127.0.0.1. */
    private void signed(String name, String ca) throws Exception {
        key(name);
        Path csr = file(name + ".csr");
        QemuTools.ok(
                "openssl",
                "req",
                "-new",
                "-key",
                file(name + "-key.pem").toString(),
                "-subj",
                "/CN=" + name,
                "-out",
                csr.toString());
        Path ext = Files.writeString(file(name + ".ext"), "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
        QemuTools.ok(
                "openssl",
                "x509",
                "-req",
                "-in",
                csr.toString(),
                "-CA",
                file(ca + "-cert.pem").toString(),
                "-CAkey",
                file(ca + "-key.pem").toString(),
                "-CAcreateserial",
                "-days",
                "2",
                "-extfile",
                ext.toString(),
                "-out",
                file(name + "-cert.pem").toString());
    }

    private String uri(int port, String client, String ca) {
        return "siphon+tls://localhost:" + port + "/?cert=" + file(client + "-cert.pem") + "&key="
                + file(client + "-key.pem") + "&ca=" + file(ca + "-cert.pem");
    }

    @Test
    void aClientWithACertificateOfTheCaIsServedAndOthersAreRefused() throws Exception {
        ca("ca");
        signed("server", "ca");
        signed("client", "ca");
        ca("rogue-ca");
        signed("rogue", "rogue-ca");
        Daemon.TlsListen tls = new Daemon.TlsListen(
                new InetSocketAddress("127.0.0.1", 0),
                file("server-cert.pem"),
                file("server-key.pem"),
                file("ca-cert.pem"));
        try (Daemon daemon = Daemon.start(dir.resolve("state"), Optional.empty(), Optional.empty(), Optional.of(tls))) {
            int port = daemon.tlsPort().orElseThrow();
            try (Connection connection = Siphon.connect(uri(port, "client", "ca"))) {
                TestDomains.defineAndSee(connection, connection, dir, "tls");
            }
            SiphonException rogue = assertThrows(
                    SiphonException.class,
                    () -> Siphon.connect(uri(port, "rogue", "ca")).list());
            assertEquals(ErrorCode.CONNECTION_FAILED, rogue.code(), rogue::getMessage);
            SiphonException untrusted = assertThrows(
                    SiphonException.class,
                    () -> Siphon.connect(uri(port, "client", "rogue-ca")).list());
            assertEquals(ErrorCode.CONNECTION_FAILED, untrusted.code(), untrusted::getMessage);
            SiphonException incomplete = assertThrows(
                    SiphonException.class, () -> Siphon.connect("siphon+tls://localhost:" + port + "/?cert=x"));
            assertEquals(ErrorCode.INVALID_ARG, incomplete.code());
            // the daemon still serves after the refusals
            try (Connection again = Siphon.connect(uri(port, "client", "ca"))) {
                assertEquals(1, again.list().size());
            }
        }
    }
}
