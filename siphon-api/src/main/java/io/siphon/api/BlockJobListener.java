package io.siphon.api;

/** Receives block job events; called on a delivery thread of the connection, one event at a time. */
@FunctionalInterface
public interface BlockJobListener {
    void onBlockJob(BlockJobEvent event);
}
