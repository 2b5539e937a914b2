package io.siphon.format.remote;

import java.io.IOException;

/** A remote object that cannot be read as asked; the message names the object and the reason. */
public class RemoteObjectException extends IOException {
    /** Why. */
    public enum Reason {
        /** The name is not a URL or {@code json:} name Siphon reads, or its scheme is unknown. */
        BAD_NAME,
        /** The store says there is no such object (HTTP 404, NBD export unknown). */
        NOT_FOUND,
        /** The store refused the credentials (HTTP 401/403, S3 access denied). */
        ACCESS_DENIED,
        /** The object is not the version that was opened: it changed under the reader. */
        CHANGED,
        /** The store cannot be reached or failed transiently; worth retrying. */
        UNAVAILABLE,
        /** The store answered something that makes no sense (no size, no range support). */
        PROTOCOL
    }

    private final Reason reason;
    private final String name;

    public RemoteObjectException(Reason reason, String name, String detail) {
        this(reason, name, detail, null);
    }

    public RemoteObjectException(Reason reason, String name, String detail, Throwable cause) {
        super(name + ": " + detail, cause);
        this.reason = reason;
        this.name = name;
    }

    public Reason reason() {
        return reason;
    }

    /** The remote name (URL) the error is about. */
    public String name() {
        return name;
    }

    /** Whether {@code failure} or one of its causes is a remote store that could not be reached. */
    public static boolean isOutage(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof RemoteObjectException remote && remote.isTransient()) {
                return true;
            }
        }
        return false;
    }

    /** Whether retrying may help. */
    public boolean isTransient() {
        return reason == Reason.UNAVAILABLE;
    }
}
