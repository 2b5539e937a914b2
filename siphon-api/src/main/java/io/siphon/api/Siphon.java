package io.siphon.api;

import io.siphon.api.spi.Driver;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import java.util.TreeSet;

/** Entry point: opens a {@link Connection} to the driver that serves a URI's scheme. Thread-safe. */
public final class Siphon {
    private Siphon() {}

    /**
     * Connects to {@code uri}: {@code embedded:///STATEDIR} (the engine in this process), {@code
     * siphon:///session} (the per-user daemon, started when absent), {@code siphon+unix:///SOCKET},
     * {@code siphon+tls://HOST:PORT/}. A query {@code ?readonly=1} opens a read-only connection.
     */
    public static Connection connect(String uri) {
        URI parsed;
        try {
            parsed = new URI(uri);
        } catch (URISyntaxException e) {
            throw new SiphonException(
                    ErrorCode.INVALID_ARG, "malformed connection URI '" + uri + "': " + e.getMessage(), e);
        }
        return connect(parsed);
    }

    /** As {@link #connect(String)}. */
    public static Connection connect(URI uri) {
        String scheme = uri.getScheme();
        if (scheme == null) {
            throw new SiphonException(ErrorCode.INVALID_ARG, "connection URI '" + uri + "' has no scheme");
        }
        List<Driver> drivers = drivers();
        for (Driver driver : drivers) {
            if (driver.schemes().contains(scheme)) {
                return new Connection(uri, driver.open(uri));
            }
        }
        TreeSet<String> known = new TreeSet<>();
        drivers.forEach(d -> known.addAll(d.schemes()));
        throw new SiphonException(
                ErrorCode.NO_SUPPORT,
                "no driver for URI scheme '" + scheme + "' (known: " + String.join(", ", known) + ")");
    }

    private static List<Driver> drivers() {
        List<Driver> drivers = new ArrayList<>();
        ServiceLoader.load(Driver.class, Siphon.class.getClassLoader()).forEach(drivers::add);
        if (Thread.currentThread().getContextClassLoader() != null
                && Thread.currentThread().getContextClassLoader() != Siphon.class.getClassLoader()) {
            ServiceLoader.load(Driver.class).forEach(d -> {
                if (drivers.stream().noneMatch(known -> known.getClass() == d.getClass())) {
                    drivers.add(d);
                }
            });
        }
        return drivers;
    }
}
