package io.siphon.nbd.protocol;

import java.io.IOException;

/** The peer broke the protocol (bad magic, impossible length, unexpected message): the connection ends. */
public final class NbdProtocolException extends IOException {
    public NbdProtocolException(String message) {
        super(message);
    }
}
