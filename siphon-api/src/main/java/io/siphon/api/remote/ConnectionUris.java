package io.siphon.api.remote;

import java.net.URI;

/** Reads the query parameters shared by every connection URI. */
public final class ConnectionUris {
    private ConnectionUris() {}

    /** Whether the URI asks for a read-only connection ({@code ?readonly=1} or {@code ?readonly=true}). */
    public static boolean readOnly(URI uri) {
        String query = uri.getQuery();
        if (query == null) {
            return false;
        }
        for (String pair : query.split("&")) {
            if (pair.equals("readonly") || pair.equals("readonly=1") || pair.equals("readonly=true")) {
                return true;
            }
        }
        return false;
    }
}
