package io.siphon.net;

import java.io.IOException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Optional;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * The one way Siphon turns PEM files into an {@link SSLContext}, for servers and clients alike.
 * Engines and sockets made from it must go through {@link TlsPolicy}, which fixes the protocol
 * version. Stateless; the contexts are thread-safe.
 */
public final class PemTls {
    private static final char[] NO_PASSWORD = new char[0];

    private PemTls() {}

    /**
     * What this side presents: a certificate chain (the leaf first) and its unencrypted key.
     *
     * @param certificateChain PEM certificates
     * @param privateKey PEM key: PKCS#8, PKCS#1 RSA or SEC1 EC
     */
    public record Identity(Path certificateChain, Path privateKey) {}

    /**
     * A context presenting {@code identity} (if any) and trusting the certificates of {@code caBundle};
     * without a bundle, the JDK's default trust store.
     */
    public static SSLContext context(Optional<Identity> identity, Optional<Path> caBundle) throws IOException {
        try {
            KeyManagerFactory keys = null;
            if (identity.isPresent()) {
                KeyStore own = emptyStore();
                own.setKeyEntry(
                        "self",
                        PemReader.privateKey(identity.get().privateKey()),
                        NO_PASSWORD,
                        PemReader.certificates(identity.get().certificateChain())
                                .toArray(Certificate[]::new));
                keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
                keys.init(own, NO_PASSWORD);
            }
            TrustManagerFactory trust = null;
            if (caBundle.isPresent()) {
                KeyStore trusted = emptyStore();
                List<X509Certificate> authorities = PemReader.certificates(caBundle.get());
                for (int i = 0; i < authorities.size(); i++) {
                    trusted.setCertificateEntry("ca-" + i, authorities.get(i));
                }
                trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
                trust.init(trusted);
            }
            SSLContext context = SSLContext.getInstance(TlsPolicy.CONTEXT_PROTOCOL);
            context.init(
                    keys == null ? null : keys.getKeyManagers(), trust == null ? null : trust.getTrustManagers(), null);
            return context;
        } catch (GeneralSecurityException e) {
            throw new IOException(
                    "TLS credentials " + identity.map(Identity::toString).orElse("(none)") + ", CA "
                            + caBundle.map(Path::toString).orElse("(JDK default)") + ": " + e.getMessage(),
                    e);
        }
    }

    /** A context for mutual TLS: presents {@code certificateChain}/{@code privateKey}, trusts only {@code caBundle}. */
    public static SSLContext mutual(Path certificateChain, Path privateKey, Path caBundle) throws IOException {
        return context(Optional.of(new Identity(certificateChain, privateKey)), Optional.of(caBundle));
    }

    private static KeyStore emptyStore() throws GeneralSecurityException, IOException {
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        return store;
    }
}
