package io.siphon.api.remote;

import io.siphon.api.ErrorCode;
import io.siphon.api.SiphonException;
import java.math.BigDecimal;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
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

    /** How long a client waits for the greeting and for each reply when the URI names no timeout. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(60);

    /** {@code ?timeout=SECONDS} (a positive number, fractions allowed), else {@link #DEFAULT_TIMEOUT}. */
    public static Duration timeout(URI uri) {
        String text = parameters(uri).get("timeout");
        if (text == null) {
            return DEFAULT_TIMEOUT;
        }
        try {
            BigDecimal seconds = new BigDecimal(text.strip());
            if (seconds.signum() > 0 && seconds.compareTo(BigDecimal.valueOf(Integer.MAX_VALUE)) <= 0) {
                return Duration.ofMillis(Math.max(1, seconds.movePointRight(3).longValue()));
            }
        } catch (NumberFormatException e) {
            // refused below, with the URI named
        }
        throw new SiphonException(
                ErrorCode.INVALID_ARG,
                "URI '" + uri + "': timeout '" + text + "' must be a positive number of seconds");
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
