package io.siphon.nbd.client;

import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Where an export is, parsed from an NBD URI: {@code nbd+unix:///NAME?socket=PATH}, {@code
 * nbd://HOST[:PORT]/NAME} or {@code nbds://…} (TLS). Port defaults to 10809.
 *
 * @param socketPath the Unix socket, or empty for TCP
 * @param host TCP host ("" for Unix)
 * @param port TCP port
 * @param exportName the export's name ("" is the server's default export)
 * @param tls whether the URI asks for TLS
 */
public record NbdAddress(Optional<Path> socketPath, String host, int port, String exportName, boolean tls) {
    public static final int DEFAULT_PORT = 10809;

    /** Parses {@code uri}; anything else than the three schemes is an IllegalArgumentException naming it. */
    public static NbdAddress parse(String uri) {
        URI parsed = URI.create(uri);
        String scheme = String.valueOf(parsed.getScheme());
        String path = parsed.getRawPath() == null ? "" : parsed.getRawPath();
        String name = URLDecoder.decode(path.startsWith("/") ? path.substring(1) : path, StandardCharsets.UTF_8);
        return switch (scheme) {
            case "nbd+unix" -> new NbdAddress(Optional.of(Path.of(socketParameter(parsed, uri))), "", 0, name, false);
            case "nbd", "nbds" -> {
                if (parsed.getHost() == null) {
                    throw new IllegalArgumentException("NBD URI " + uri + " has no host");
                }
                int port = parsed.getPort() < 0 ? DEFAULT_PORT : parsed.getPort();
                yield new NbdAddress(Optional.empty(), parsed.getHost(), port, name, scheme.equals("nbds"));
            }
            default ->
                throw new IllegalArgumentException(
                        "NBD URI " + uri + " has scheme '" + scheme + "'; expected nbd, nbds or nbd+unix");
        };
    }

    private static String socketParameter(URI parsed, String uri) {
        String query = parsed.getRawQuery() == null ? "" : parsed.getRawQuery();
        for (String parameter : query.split("&")) {
            if (parameter.startsWith("socket=")) {
                return URLDecoder.decode(parameter.substring("socket=".length()), StandardCharsets.UTF_8);
            }
        }
        throw new IllegalArgumentException("NBD URI " + uri + " lacks ?socket=PATH");
    }
}
