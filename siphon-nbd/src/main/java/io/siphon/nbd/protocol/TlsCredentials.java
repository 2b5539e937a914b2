package io.siphon.nbd.protocol;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.Collection;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * X.509 credentials from a directory laid out as QEMU's tls-creds-x509 expects: {@code
 * ca-cert.pem}, and {@code server-cert.pem} + {@code server-key.pem} (a server) or {@code
 * client-cert.pem} + {@code client-key.pem} (a client, optional). Keys are unencrypted PKCS#8 PEM.
 */
public final class TlsCredentials {
    private static final char[] NO_PASSWORD = new char[0];

    private TlsCredentials() {}

    /** A TLS 1.3/1.2 context presenting {@code server-cert.pem}; thread-safe once built. */
    public static SSLContext server(Path directory) throws IOException {
        return context(directory, "server", true);
    }

    /** A context trusting {@code ca-cert.pem}, presenting {@code client-cert.pem} when present. */
    public static SSLContext client(Path directory) throws IOException {
        return context(directory, "client", false);
    }

    private static SSLContext context(Path directory, String role, boolean keyRequired) throws IOException {
        Path cert = directory.resolve(role + "-cert.pem");
        Path key = directory.resolve(role + "-key.pem");
        Path ca = directory.resolve("ca-cert.pem");
        try {
            KeyManagerFactory keys = null;
            if (keyRequired || Files.exists(cert)) {
                KeyStore store = KeyStore.getInstance("PKCS12");
                store.load(null, null);
                store.setKeyEntry(
                        role, privateKey(key), NO_PASSWORD, certificates(cert).toArray(Certificate[]::new));
                keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
                keys.init(store, NO_PASSWORD);
            }
            TrustManagerFactory trust = null;
            if (Files.exists(ca)) {
                KeyStore trusted = KeyStore.getInstance("PKCS12");
                trusted.load(null, null);
                int i = 0;
                for (Certificate certificate : certificates(ca)) {
                    trusted.setCertificateEntry("ca" + i++, certificate);
                }
                trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
                trust.init(trusted);
            }
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(
                    keys == null ? null : keys.getKeyManagers(), trust == null ? null : trust.getTrustManagers(), null);
            return context;
        } catch (GeneralSecurityException e) {
            throw new IOException("TLS credentials in " + directory + ": " + e.getMessage(), e);
        }
    }

    private static Collection<? extends Certificate> certificates(Path pem)
            throws IOException, GeneralSecurityException {
        try (InputStream in = Files.newInputStream(pem)) {
            Collection<? extends Certificate> certificates =
                    CertificateFactory.getInstance("X.509").generateCertificates(in);
            if (certificates.isEmpty()) {
                throw new IOException(pem + ": no certificate");
            }
            return certificates;
        }
    }

    private static PrivateKey privateKey(Path pem) throws IOException, GeneralSecurityException {
        String text = Files.readString(pem, StandardCharsets.US_ASCII);
        String begin = "-----BEGIN PRIVATE KEY-----";
        int start = text.indexOf(begin);
        int end = text.indexOf("-----END PRIVATE KEY-----");
        if (start < 0 || end < start) {
            throw new IOException(
                    pem + ": not an unencrypted PKCS#8 key (convert it with: openssl pkcs8 -topk8 -nocrypt)");
        }
        byte[] der = Base64.getMimeDecoder().decode(text.substring(start + begin.length(), end));
        GeneralSecurityException last = null;
        for (String algorithm : List.of("RSA", "EC", "Ed25519", "Ed448")) {
            try {
                return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
            } catch (GeneralSecurityException e) {
                last = e;
            }
        }
        throw new IOException(pem + ": unsupported key type", last);
    }
}
