package io.siphon.nbd.server;

import io.siphon.nbd.protocol.CommandType;

/**
 * Told what the server does, for counters and metrics kept outside this module (the server itself
 * depends on no metrics library). Called on the connection's threads, so an implementation must be
 * thread-safe and quick; one that throws is logged and ignored.
 */
public interface NbdServerListener {
    /** Does nothing. */
    NbdServerListener NONE = new NbdServerListener() {};

    /** A client finished its handshake and now uses {@code exportName}. */
    default void connectionOpened(String exportName) {}

    /** The client of {@code exportName} left or was disconnected. */
    default void connectionClosed(String exportName) {}

    /**
     * A request on {@code exportName} was answered after {@code nanos} nanoseconds: {@code
     * lengthBytes} is the request's length (for READ and WRITE, the data moved), {@code failed} is
     * whether its reply was an error.
     */
    default void requestDone(String exportName, CommandType type, long lengthBytes, long nanos, boolean failed) {}
}
