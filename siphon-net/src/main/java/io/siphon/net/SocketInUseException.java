package io.siphon.net;

import java.io.IOException;
import java.nio.file.Path;

/** A Unix socket file where another live process already listens. */
public final class SocketInUseException extends IOException {
    private final Path socket;

    SocketInUseException(Path socket) {
        super("another process already listens on " + socket);
        this.socket = socket;
    }

    /** The socket file. */
    public Path socket() {
        return socket;
    }
}
