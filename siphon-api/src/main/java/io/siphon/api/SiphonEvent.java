package io.siphon.api;

/** Something that happened to a domain, delivered to listeners in-process and over remote connections. */
public sealed interface SiphonEvent permits BlockJobEvent, LifecycleEvent {
    /** The domain's name. */
    String domain();
}
