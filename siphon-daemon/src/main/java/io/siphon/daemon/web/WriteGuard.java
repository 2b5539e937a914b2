package io.siphon.daemon.web;

import io.javalin.http.Context;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Locale;
import java.util.Optional;

/**
 * Decides whether a state-changing request may run: it must carry the write token the daemon
 * printed at start, in the {@code X-Siphon-Token} header, and pass a CSRF check (a JSON body, and
 * when the browser says where the request comes from, the console's own origin). A header a page
 * of another origin cannot set without a CORS preflight (which this server never grants) is what
 * keeps a cross-site form or script out; the origin checks are a second wall. Thread-safe.
 */
final class WriteGuard {
    static final String TOKEN_HEADER = "X-Siphon-Token";

    private final byte[] token;

    private WriteGuard(String token) {
        this.token = token.getBytes(StandardCharsets.UTF_8);
    }

    /** A guard with a new random token (256 bits, URL-safe Base64). */
    static WriteGuard withRandomToken() {
        byte[] bytes = new byte[32];
        new SecureRandom().nextBytes(bytes);
        return new WriteGuard(Base64.getUrlEncoder().withoutPadding().encodeToString(bytes));
    }

    String token() {
        return new String(token, StandardCharsets.UTF_8);
    }

    /** Why {@code ctx} may not change state, or empty when it may. */
    Optional<String> refusal(Context ctx) {
        String given = ctx.header(TOKEN_HEADER);
        if (given == null || given.isEmpty()) {
            return Optional.of("this console is read-only without the write token (header " + TOKEN_HEADER + ")");
        }
        if (!MessageDigest.isEqual(token, given.getBytes(StandardCharsets.UTF_8))) {
            return Optional.of("the write token is wrong");
        }
        String contentType = ctx.header("Content-Type");
        if (contentType == null || !contentType.toLowerCase(Locale.ROOT).startsWith("application/json")) {
            return Optional.of("a state-changing request must have a JSON body (Content-Type: application/json)");
        }
        String site = ctx.header("Sec-Fetch-Site");
        if (site != null && !site.equals("same-origin") && !site.equals("none")) {
            return Optional.of("cross-site request refused (Sec-Fetch-Site: " + site + ")");
        }
        String origin = ctx.header("Origin");
        String host = ctx.header("Host");
        if (origin != null && !origin.equals("http://" + host)) {
            return Optional.of("cross-origin request refused (Origin " + origin + ")");
        }
        return Optional.empty();
    }
}
