package io.siphon.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.siphon.api.Connection;
import io.siphon.api.ErrorCode;
import io.siphon.api.Siphon;
import io.siphon.api.SiphonException;
import io.siphon.net.PemTls;
import io.siphon.net.testing.Pki;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The control protocol over TCP with mutual TLS, with certificates made by openssl. */
class TlsControlTest {
    @TempDir
    Path dir;

    private static String uri(int port, PemTls.Identity client, Path ca) {
        return "siphon+tls://localhost:" + port + "/?cert=" + client.certificateChain() + "&key=" + client.privateKey()
                + "&ca=" + ca;
    }

    /** The daemon's TLS listener on a free port of 127.0.0.1. */
    private static Daemon.TlsListen listen(PemTls.Identity server, Path ca) {
        return new Daemon.TlsListen(
                new InetSocketAddress("127.0.0.1", 0), server.certificateChain(), server.privateKey(), ca);
    }

    @Test
    void aPkcs1RsaClientKeyAndASec1EcDaemonKeyAreAccepted() throws Exception {
        Pki ca = new Pki(dir.resolve("ca"));
        PemTls.Identity server = ca.leaf("server", Pki.KeyForm.SEC1_EC);
        PemTls.Identity client = ca.leaf("client", Pki.KeyForm.PKCS1_RSA);
        Daemon.TlsListen tls = listen(server, ca.cert("ca"));
        try (Daemon daemon = Daemon.start(dir.resolve("state"), Optional.empty(), Optional.empty(), Optional.of(tls));
                Connection connection = Siphon.connect(uri(daemon.tlsPort().orElseThrow(), client, ca.cert("ca")))) {
            TestDomains.defineAndSee(connection, connection, dir, "pkcs1");
        }
    }

    @Test
    void aClientWithACertificateOfTheCaIsServedAndOthersAreRefused() throws Exception {
        Pki ca = new Pki(dir.resolve("ca"));
        PemTls.Identity server = ca.leaf("server", Pki.KeyForm.PKCS8_EC);
        PemTls.Identity client = ca.leaf("client", Pki.KeyForm.PKCS8_EC);
        Pki rogueCa = new Pki(dir.resolve("rogue-ca"));
        PemTls.Identity stranger = rogueCa.leaf("rogue", Pki.KeyForm.PKCS8_EC);
        Daemon.TlsListen tls = listen(server, ca.cert("ca"));
        try (Daemon daemon = Daemon.start(dir.resolve("state"), Optional.empty(), Optional.empty(), Optional.of(tls))) {
            int port = daemon.tlsPort().orElseThrow();
            try (Connection connection = Siphon.connect(uri(port, client, ca.cert("ca")))) {
                TestDomains.defineAndSee(connection, connection, dir, "tls");
            }
            SiphonException rogue = assertThrows(
                    SiphonException.class,
                    () -> Siphon.connect(uri(port, stranger, ca.cert("ca"))).list());
            assertEquals(ErrorCode.CONNECTION_FAILED, rogue.code(), rogue::getMessage);
            SiphonException untrusted = assertThrows(
                    SiphonException.class,
                    () -> Siphon.connect(uri(port, client, rogueCa.cert("ca"))).list());
            assertEquals(ErrorCode.CONNECTION_FAILED, untrusted.code(), untrusted::getMessage);
            SiphonException incomplete = assertThrows(
                    SiphonException.class, () -> Siphon.connect("siphon+tls://localhost:" + port + "/?cert=x"));
            assertEquals(ErrorCode.INVALID_ARG, incomplete.code());
            // the daemon still serves after the refusals
            try (Connection again = Siphon.connect(uri(port, client, ca.cert("ca")))) {
                assertEquals(1, again.list().size());
            }
        }
    }
}
