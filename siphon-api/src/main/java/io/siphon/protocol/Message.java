package io.siphon.protocol;

/** One control-protocol message, as it travels on one line. */
public sealed interface Message permits Greeting, Request, Reply, ErrorReply, EventMessage {}
