package io.siphon.nbd.protocol;

import io.siphon.net.PemTls;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import javax.net.ssl.SSLContext;

/**
 * X.509 credentials from a directory laid out as QEMU's tls-creds-x509 expects: {@code
 * ca-cert.pem}, and {@code server-cert.pem} + {@code server-key.pem} (a server) or {@code
 * client-cert.pem} + {@code client-key.pem} (a client, optional). Keys are unencrypted PEM: PKCS#8,
 * PKCS#1 RSA or SEC1 EC. The files are read by {@link PemTls}; the protocol is its policy.
 */
public final class TlsCredentials {
    private TlsCredentials() {}

    /** A context presenting {@code server-cert.pem}; thread-safe once built. */
    public static SSLContext server(Path directory) throws IOException {
        return context(directory, "server", true);
    }

    /** A context trusting {@code ca-cert.pem}, presenting {@code client-cert.pem} when present. */
    public static SSLContext client(Path directory) throws IOException {
        return context(directory, "client", false);
    }

    private static SSLContext context(Path directory, String role, boolean keyRequired) throws IOException {
        Path cert = directory.resolve(role + "-cert.pem");
        Optional<PemTls.Identity> identity = keyRequired || Files.exists(cert)
                ? Optional.of(new PemTls.Identity(cert, directory.resolve(role + "-key.pem")))
                : Optional.empty();
        Path ca = directory.resolve("ca-cert.pem");
        return PemTls.context(identity, Files.exists(ca) ? Optional.of(ca) : Optional.empty());
    }
}
