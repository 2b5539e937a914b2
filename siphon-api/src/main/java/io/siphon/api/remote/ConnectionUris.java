package io.siphon.api.remote;

import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/** Reads the query parameters shared by every connection URI. */
public final class ConnectionUris {
    private ConnectionUris() {}

    /** Whether the URI asks for a read-only connection ({@code ?readonly}, {@code =1} or {@code =true}). */
    public static boolean readOnly(URI uri) {
        String value = parameters(uri).get("readonly");
        return value != null && (value.isEmpty() || value.equals("1") || value.equals("true"));
    }

    /** The query's parameters, percent-decoded; a name without {@code =} has the empty value. */
    public static Map<String, String> parameters(URI uri) {
        Map<String, String> out = new LinkedHashMap<>();
        String query = uri.getRawQuery();
        if (query == null || query.isEmpty()) {
            return out;
        }
        for (String pair : query.split("&")) {
            int eq = pair.indexOf('=');
            String name = eq < 0 ? pair : pair.substring(0, eq);
            String value = eq < 0 ? "" : pair.substring(eq + 1);
            out.put(URLDecoder.decode(name, StandardCharsets.UTF_8), URLDecoder.decode(value, StandardCharsets.UTF_8));
        }
        return out;
    }
}
