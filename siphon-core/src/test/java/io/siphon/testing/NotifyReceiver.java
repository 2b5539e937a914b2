package io.siphon.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * The receiving end of systemd's readiness protocol, as systemd binds it: a Unix datagram socket
 * (a path, or an abstract name after {@code @}) in a Python process, since the JDK has no datagram
 * Unix sockets. Each datagram is one line of {@link #next}, its newlines shown as {@code |}.
 */
public final class NotifyReceiver implements AutoCloseable {
    private static final String SCRIPT = """
            import socket, sys
            name = sys.argv[1]
            s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            s.bind("\\0" + name[1:] if name.startswith("@") else name)
            print("bound", flush=True)
            while True:
                print(s.recv(4096).decode().replace("\\n", "|"), flush=True)
            """;

    private final Process process;
    private final BufferedReader lines;

    private NotifyReceiver(Process process) {
        this.process = process;
        this.lines = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    }

    /** Binds {@code name} and returns once it is bound. */
    public static NotifyReceiver bind(String name) throws IOException {
        NotifyReceiver receiver = new NotifyReceiver(new ProcessBuilder("python3", "-c", SCRIPT, name)
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start());
        String first = receiver.lines.readLine();
        if (!"bound".equals(first)) {
            receiver.close();
            throw new IOException("the notify receiver did not bind " + name + ": " + first);
        }
        return receiver;
    }

    /** The next datagram, waiting for it (the caller's test timeout bounds the wait); null if the receiver died. */
    public String next() throws IOException {
        return lines.readLine();
    }

    /** The next datagram that contains {@code assignment} (e.g. {@code READY=1}), skipping others; null if none came. */
    public String nextWith(String assignment) throws IOException {
        for (String line = next(); line != null; line = next()) {
            if (("|" + line + "|").contains("|" + assignment + "|")) {
                return line;
            }
        }
        return null;
    }

    @Override
    public void close() {
        process.destroy();
        try {
            process.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
