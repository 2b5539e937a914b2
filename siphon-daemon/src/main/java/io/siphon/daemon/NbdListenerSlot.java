package io.siphon.daemon;

import io.siphon.nbd.protocol.CommandType;
import io.siphon.nbd.server.NbdServerListener;

/**
 * The daemon's NBD server listener: forwards to whichever listener is set now (the web console's
 * metrics, once they start), so that it can be set before or after the server exists. Thread-safe.
 */
final class NbdListenerSlot implements NbdServerListener {
    private volatile NbdServerListener delegate = NbdServerListener.NONE;

    void set(NbdServerListener listener) {
        delegate = listener;
    }

    @Override
    public void connectionOpened(String exportName) {
        delegate.connectionOpened(exportName);
    }

    @Override
    public void connectionClosed(String exportName) {
        delegate.connectionClosed(exportName);
    }

    @Override
    public void requestDone(String exportName, CommandType type, long lengthBytes, long nanos, boolean failed) {
        delegate.requestDone(exportName, type, lengthBytes, nanos, failed);
    }
}
