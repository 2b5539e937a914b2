package io.siphon.api.remote;

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
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * A TLS context for mutual authentication from PEM files: this side's certificate chain, its
 * unencrypted PKCS#8 key, and the CA certificates the peer must chain to. Stateless.
 */
public final class TlsFiles {
    private static final char[] NONE = new char[0];

    private TlsFiles() {}

    /** The context presenting {@code cert}/{@code key} and trusting only {@code ca}. */
    public static SSLContext mutual(Path cert, Path key, Path ca) throws IOException {
        try {
            KeyStore own = emptyStore();
            own.setKeyEntry("self", key(key), NONE, certificates(cert).toArray(Certificate[]::new));
            KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            keys.init(own, NONE);
            KeyStore trusted = emptyStore();
            List<Certificate> authorities = certificates(ca);
            for (int i = 0; i < authorities.size(); i++) {
                trusted.setCertificateEntry("ca-" + i, authorities.get(i));
            }
            TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            trust.init(trusted);
            SSLContext context = SSLContext.getInstance("TLSv1.3");
            context.init(keys.getKeyManagers(), trust.getTrustManagers(), null);
            return context;
        } catch (GeneralSecurityException e) {
            throw new IOException("TLS files " + cert + ", " + key + ", " + ca + ": " + e.getMessage(), e);
        }
    }

    private static KeyStore emptyStore() throws GeneralSecurityException, IOException {
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        return store;
    }

    private static List<Certificate> certificates(Path pem) throws IOException, GeneralSecurityException {
        try (InputStream in = Files.newInputStream(pem)) {
            List<Certificate> all =
                    List.copyOf(CertificateFactory.getInstance("X.509").generateCertificates(in));
            if (all.isEmpty()) {
                throw new IOException(pem + " holds no PEM certificate");
            }
            return all;
        }
    }

    private static PrivateKey key(Path pem) throws IOException, GeneralSecurityException {
        String text = Files.readString(pem, StandardCharsets.US_ASCII);
        String header = "-----BEGIN PRIVATE KEY-----";
        int from = text.indexOf(header);
        int to = text.indexOf("-----END PRIVATE KEY-----");
        if (from < 0 || to < from) {
            throw new IOException(pem + " is not an unencrypted PKCS#8 PEM key ('" + header + "')");
        }
        PKCS8EncodedKeySpec spec =
                new PKCS8EncodedKeySpec(Base64.getMimeDecoder().decode(text.substring(from + header.length(), to)));
        if (spec.getAlgorithm() != null) {
            return KeyFactory.getInstance(spec.getAlgorithm()).generatePrivate(spec);
        }
        GeneralSecurityException last = new GeneralSecurityException(pem + ": key algorithm not recognised");
        for (String algorithm : List.of("RSA", "EC", "Ed25519")) {
            try {
                return KeyFactory.getInstance(algorithm).generatePrivate(spec);
            } catch (GeneralSecurityException e) {
                last = e;
            }
        }
        throw last;
    }
}
