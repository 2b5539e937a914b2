package io.siphon.net.testing;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.siphon.net.PemTls;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Keys and certificates made by openssl for a test, in one directory: a CA ({@code ca-cert.pem},
 * {@code ca-key.pem}) and leaves it signs for localhost and 127.0.0.1, for servers and clients
 * alike. The test is skipped where openssl is missing.
 */
public final class Pki {
    /** How openssl writes a key, and the PEM header that proves it did. */
    public enum KeyForm {
        PKCS8_EC("-----BEGIN PRIVATE KEY-----", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"),
        PKCS1_RSA("-----BEGIN RSA PRIVATE KEY-----", "genrsa", "-traditional", "2048"),
        SEC1_EC("-----BEGIN EC PRIVATE KEY-----", "ecparam", "-name", "prime256v1", "-genkey"),
        PKCS8_ED25519("-----BEGIN PRIVATE KEY-----", "genpkey", "-algorithm", "Ed25519");

        final String header;
        final List<String> command;

        KeyForm(String header, String... command) {
            this.header = header;
            this.command = List.of(command);
        }
    }

    private final Path dir;

    /** A new CA in {@code dir}. */
    public Pki(Path dir) throws Exception {
        assumeTrue(onPath("openssl"), "openssl is not installed");
        this.dir = Files.createDirectories(dir);
        key("ca", KeyForm.PKCS8_EC);
        openssl(
                "req",
                "-x509",
                "-new",
                "-key",
                key("ca").toString(),
                "-subj",
                "/CN=Siphon test CA",
                "-days",
                "2",
                "-out",
                cert("ca").toString());
    }

    /** Where the key of {@code name} is. */
    public Path key(String name) {
        return dir.resolve(name + "-key.pem");
    }

    /** Where the certificate of {@code name} is; {@code cert("ca")} is the CA's. */
    public Path cert(String name) {
        return dir.resolve(name + "-cert.pem");
    }

    /** A new key for {@code name} in {@code form}. */
    public Path key(String name, KeyForm form) throws Exception {
        List<String> command = new ArrayList<>(form.command);
        command.add(1, "-out");
        command.add(2, key(name).toString());
        openssl(command.toArray(String[]::new));
        assertTrue(Files.readString(key(name)).contains(form.header), () -> name + " key is not " + form);
        return key(name);
    }

    /** A key in {@code form} and a certificate for localhost and 127.0.0.1 signed by this CA. */
    public PemTls.Identity leaf(String name, KeyForm form) throws Exception {
        key(name, form);
        return certify(name);
    }

    /** A certificate for the key already at {@link #key(String)}, signed by this CA. */
    public PemTls.Identity certify(String name) throws Exception {
        Path csr = dir.resolve(name + ".csr");
        openssl("req", "-new", "-key", key(name).toString(), "-subj", "/CN=" + name, "-out", csr.toString());
        Path ext = Files.writeString(
                dir.resolve(name + ".ext"),
                "subjectAltName=DNS:localhost,IP:127.0.0.1\n"
                        + "extendedKeyUsage=serverAuth,clientAuth\nkeyUsage=digitalSignature\n");
        openssl(
                "x509",
                "-req",
                "-in",
                csr.toString(),
                "-CA",
                cert("ca").toString(),
                "-CAkey",
                key("ca").toString(),
                "-CAcreateserial",
                "-days",
                "2",
                "-extfile",
                ext.toString(),
                "-out",
                cert(name).toString());
        return new PemTls.Identity(cert(name), key(name));
    }

    /** Runs openssl in this directory; a failure fails the test with its output. */
    public String openssl(String... arguments) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("openssl"));
        command.addAll(List.of(arguments));
        Path out = dir.resolve("openssl.out");
        Process process = new ProcessBuilder(command)
                .directory(dir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(out.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .start();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IOException(command + " did not finish in 60 s");
        }
        String output = Files.readString(out);
        if (process.exitValue() != 0) {
            throw new IOException(command + " failed with " + process.exitValue() + ": " + output);
        }
        return output;
    }

    private static boolean onPath(String tool) {
        for (String path : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            if (Files.isExecutable(Path.of(path, tool))) {
                return true;
            }
        }
        return false;
    }
}
