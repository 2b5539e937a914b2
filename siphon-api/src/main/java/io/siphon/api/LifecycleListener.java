package io.siphon.api;

/** Receives domain lifecycle events; called on a delivery thread of the connection, one event at a time. */
@FunctionalInterface
public interface LifecycleListener {
    void onLifecycle(LifecycleEvent event);
}
