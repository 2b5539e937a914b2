package io.siphon.api;

/** A registered listener; closing it removes the listener. Idempotent and thread-safe. */
public interface ListenerHandle extends AutoCloseable {
    @Override
    void close();
}
