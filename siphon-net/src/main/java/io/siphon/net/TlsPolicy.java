package io.siphon.net;

import java.io.IOException;
import java.nio.channels.SocketChannel;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;

/**
 * The one TLS protocol policy of Siphon, applied to every engine and socket it makes: TLS 1.3 only.
 * Every peer Siphon speaks to does 1.3 (QEMU and libnbd through GnuTLS 3.6.5 and later, nbdinfo,
 * the JDK's own client), and 1.3 alone leaves no version to downgrade to, no renegotiation and only
 * AEAD cipher suites; an {@link SSLContext}'s protocol name does not restrict the versions its
 * engines enable, so the policy sets them on each one. Clients check the server's name against its
 * certificate. Stateless.
 */
public final class TlsPolicy {
    /** The protocol versions enabled on every engine and socket. */
    static final String[] PROTOCOLS = {"TLSv1.3"};

    /** The name {@link SSLContext#getInstance(String)} is given. */
    static final String CONTEXT_PROTOCOL = "TLSv1.3";

    private TlsPolicy() {}

    /** A client engine for {@code peerHost}:{@code peerPort} that checks the server's certificate names it. */
    public static SSLEngine clientEngine(SSLContext context, String peerHost, int peerPort) {
        SSLEngine engine = context.createSSLEngine(peerHost, peerPort);
        engine.setUseClientMode(true);
        engine.setSSLParameters(clientParameters(engine.getSSLParameters()));
        return engine;
    }

    /** A server engine; {@code needClientAuth} refuses clients without a certificate the context trusts. */
    public static SSLEngine serverEngine(SSLContext context, boolean needClientAuth) {
        SSLEngine engine = context.createSSLEngine();
        engine.setUseClientMode(false);
        engine.setSSLParameters(serverParameters(engine.getSSLParameters(), needClientAuth));
        return engine;
    }

    /**
     * A server-side TLS socket over an accepted connection; the handshake runs on the first read or
     * write, or {@link SSLSocket#startHandshake()}. Closing it closes {@code accepted}.
     */
    public static SSLSocket serverSocket(SSLContext context, SocketChannel accepted, boolean needClientAuth)
            throws IOException {
        SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket(accepted.socket(), null, true);
        socket.setSSLParameters(serverParameters(socket.getSSLParameters(), needClientAuth));
        return socket;
    }

    /**
     * A client TLS socket over {@code connected} to {@code host}:{@code port}, handshake done and the
     * server's name checked. Closing it closes {@code connected}; so does a failed handshake.
     */
    public static SSLSocket clientSocket(SSLContext context, SocketChannel connected, String host, int port)
            throws IOException {
        try {
            SSLSocket socket =
                    (SSLSocket) context.getSocketFactory().createSocket(connected.socket(), host, port, true);
            socket.setSSLParameters(clientParameters(socket.getSSLParameters()));
            socket.startHandshake();
            return socket;
        } catch (IOException | RuntimeException e) {
            try {
                connected.close();
            } catch (IOException closing) {
                e.addSuppressed(closing);
            }
            throw e;
        }
    }

    private static SSLParameters clientParameters(SSLParameters parameters) {
        parameters.setProtocols(PROTOCOLS);
        parameters.setEndpointIdentificationAlgorithm("HTTPS");
        return parameters;
    }

    private static SSLParameters serverParameters(SSLParameters parameters, boolean needClientAuth) {
        parameters.setProtocols(PROTOCOLS);
        parameters.setNeedClientAuth(needClientAuth);
        return parameters;
    }
}
