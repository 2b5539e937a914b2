package io.siphon.net;

import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.List;
import java.util.Map;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.openssl.PEMEncryptedKeyPair;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;

/**
 * Certificates and private keys from PEM files. A key may be PKCS#8 ({@code BEGIN PRIVATE KEY}),
 * PKCS#1 RSA ({@code BEGIN RSA PRIVATE KEY}, what {@code openssl genrsa -traditional} and older
 * tools write) or SEC1 EC ({@code BEGIN EC PRIVATE KEY}, possibly after an {@code EC PARAMETERS}
 * block); BouncyCastle's parser turns each into PKCS#8, which the JDK's key factories read. Stateless.
 */
final class PemReader {
    /** The JDK's key factory for each algorithm OID of a PKCS#8 key (the JDK's spec does not map EC). */
    private static final Map<String, String> KEY_ALGORITHMS = Map.of(
            "1.2.840.113549.1.1.1", "RSA",
            "1.2.840.113549.1.1.10", "RSASSA-PSS",
            "1.2.840.10045.2.1", "EC",
            "1.3.101.112", "Ed25519",
            "1.3.101.113", "Ed448");

    private PemReader() {}

    /** Every certificate in {@code pem}, in file order (a chain: the leaf first). */
    static List<X509Certificate> certificates(Path pem) throws IOException {
        try (InputStream in = Files.newInputStream(pem)) {
            List<X509Certificate> all = CertificateFactory.getInstance("X.509").generateCertificates(in).stream()
                    .map(X509Certificate.class::cast)
                    .toList();
            if (all.isEmpty()) {
                throw new IOException(pem + ": no PEM certificate");
            }
            return all;
        } catch (CertificateException e) {
            throw new IOException(pem + ": not a PEM certificate file: " + e.getMessage(), e);
        }
    }

    /** The first private key in {@code pem}; encrypted keys are refused (there is no passphrase to ask for). */
    static PrivateKey privateKey(Path pem) throws IOException {
        PrivateKeyInfo info = keyInfo(pem);
        String oid = info.getPrivateKeyAlgorithm().getAlgorithm().getId();
        String algorithm = KEY_ALGORITHMS.get(oid);
        if (algorithm == null) {
            throw new IOException(pem + ": unsupported private key algorithm " + oid);
        }
        try {
            return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(info.getEncoded()));
        } catch (GeneralSecurityException e) {
            throw new IOException(pem + ": unreadable " + algorithm + " private key: " + e.getMessage(), e);
        }
    }

    private static PrivateKeyInfo keyInfo(Path pem) throws IOException {
        try (Reader reader = Files.newBufferedReader(pem, StandardCharsets.US_ASCII);
                PEMParser parser = new PEMParser(reader)) {
            for (Object object = read(pem, parser); object != null; object = read(pem, parser)) {
                switch (object) {
                    case PrivateKeyInfo pkcs8 -> {
                        return pkcs8;
                    }
                    case PEMKeyPair traditional -> {
                        return traditional.getPrivateKeyInfo();
                    }
                    case PEMEncryptedKeyPair _, PKCS8EncryptedPrivateKeyInfo _ ->
                        throw new IOException(pem
                                + ": the private key is encrypted; decrypt it with 'openssl pkey -in FILE -out FILE'");
                    default -> {} // EC PARAMETERS, or a certificate beside the key
                }
            }
        }
        throw new IOException(pem + ": no PEM private key (PKCS#8, PKCS#1 RSA or SEC1 EC)");
    }

    private static Object read(Path pem, PEMParser parser) throws IOException {
        try {
            return parser.readObject();
        } catch (IOException e) {
            throw new IOException(pem + ": malformed PEM: " + e.getMessage(), e);
        }
    }
}
