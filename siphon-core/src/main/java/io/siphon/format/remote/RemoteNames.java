package io.siphon.format.remote;

import io.siphon.format.BackingNames;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Parses remote backing names into {@link RemoteLocation}s: URLs ({@code nbd+unix:///EXPORT?socket=PATH},
 * {@code nbd://HOST[:PORT]/EXPORT}, {@code http(s)://…}, {@code s3://BUCKET/KEY}) and QEMU's {@code
 * json:} names with {@code file.driver} {@code nbd}, {@code http} or {@code https}, as {@code
 * qemu-img} stores them, so that QEMU opens the same clones.
 */
public final class RemoteNames {
    private static final Set<String> FORMAT_DRIVERS = Set.of("raw", "qcow2", "qed");

    private RemoteNames() {}

    /** The location {@code name} names; anything else is a {@code BAD_NAME} error naming it. */
    public static RemoteLocation parse(String name) throws RemoteObjectException {
        if (!BackingNames.isRemote(name)) {
            throw bad(name, "not a URL or json: name");
        }
        if (name.startsWith("json:")) {
            return fromJson(name);
        }
        URI uri;
        try {
            uri = new URI(name);
        } catch (URISyntaxException e) {
            throw bad(name, "malformed URL: " + e.getReason() + " at index " + e.getIndex());
        }
        requireParts(name, uri);
        return new RemoteLocation(uri, name, Optional.empty());
    }

    private static void requireParts(String name, URI uri) throws RemoteObjectException {
        String scheme = uri.getScheme();
        boolean unix = scheme.equals("nbd+unix");
        if (!unix && (uri.getHost() == null || uri.getHost().isEmpty())) {
            throw bad(name, "the URL has no host");
        }
        if (unix && (uri.getRawQuery() == null || !uri.getRawQuery().contains("socket="))) {
            throw bad(name, "an nbd+unix URL needs ?socket=PATH");
        }
        if ((scheme.equals("http") || scheme.equals("https") || scheme.equals("s3"))
                && (uri.getRawPath() == null || uri.getRawPath().length() <= 1)) {
            throw bad(name, "the URL names no object (empty path)");
        }
    }

    private static RemoteLocation fromJson(String name) throws RemoteObjectException {
        Map<String, String> options;
        try {
            options = FlatJson.parse(name.substring("json:".length()));
        } catch (IllegalArgumentException e) {
            throw bad(name, "malformed json: name: " + e.getMessage());
        }
        Optional<String> format = Optional.empty();
        String prefix = "file.";
        String topDriver = options.get("driver");
        if (topDriver != null && !FORMAT_DRIVERS.contains(topDriver)) {
            prefix = "";
        } else if (topDriver != null) {
            format = Optional.of(topDriver);
        }
        String driver = options.get(prefix + "driver");
        if (driver == null) {
            throw bad(name, "json: name has no " + prefix + "driver");
        }
        String url = switch (driver) {
            case "nbd" -> nbdUrl(name, options, prefix);
            case "http", "https" -> {
                String given = options.get(prefix + "url");
                if (given == null) {
                    throw bad(name, "json: name has no " + prefix + "url");
                }
                yield given;
            }
            default -> throw bad(name, "unknown protocol driver '" + driver + "' (known: nbd, http, https)");
        };
        URI uri;
        try {
            uri = new URI(url);
        } catch (URISyntaxException e) {
            throw bad(name, "malformed URL '" + url + "': " + e.getReason());
        }
        if (uri.getScheme() == null || !uri.getScheme().startsWith(driver)) {
            throw bad(name, "driver '" + driver + "' does not match URL '" + url + "'");
        }
        requireParts(name, uri);
        return new RemoteLocation(uri, name, format);
    }

    /** QEMU's nbd options (server.type/path/host/port, or the older path/host/port) as an NBD URL. */
    private static String nbdUrl(String name, Map<String, String> options, String prefix) throws RemoteObjectException {
        String export = options.getOrDefault(prefix + "export", "");
        String exportPath = URLEncoder.encode(export, StandardCharsets.UTF_8).replace("+", "%20");
        String type =
                options.getOrDefault(prefix + "server.type", options.containsKey(prefix + "path") ? "unix" : "inet");
        if (type.equals("unix")) {
            String socket = options.getOrDefault(prefix + "server.path", options.get(prefix + "path"));
            if (socket == null) {
                throw bad(name, "json: name has no " + prefix + "server.path");
            }
            return "nbd+unix:///" + exportPath + "?socket=" + URLEncoder.encode(socket, StandardCharsets.UTF_8);
        }
        if (!type.equals("inet")) {
            throw bad(name, "NBD server type '" + type + "' is not unix or inet");
        }
        String host = options.getOrDefault(prefix + "server.host", options.get(prefix + "host"));
        if (host == null) {
            throw bad(name, "json: name has no " + prefix + "server.host");
        }
        String port = options.getOrDefault(prefix + "server.port", options.getOrDefault(prefix + "port", "10809"));
        String bracketed = host.contains(":") ? "[" + host + "]" : host;
        return "nbd://" + bracketed + ":" + port + "/" + exportPath;
    }

    private static RemoteObjectException bad(String name, String detail) {
        return new RemoteObjectException(RemoteObjectException.Reason.BAD_NAME, name, detail);
    }
}
