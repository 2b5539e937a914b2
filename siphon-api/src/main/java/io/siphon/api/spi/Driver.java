package io.siphon.api.spi;

import java.net.URI;
import java.util.Set;

/**
 * Executes the API for the URI schemes it names; found through {@link java.util.ServiceLoader}
 * ({@code META-INF/services/io.siphon.api.spi.Driver}). Implementations are thread-safe.
 */
public interface Driver {
    /** The URI schemes this driver serves (embedded, siphon, siphon+unix, siphon+tls). */
    Set<String> schemes();

    /** Opens a session for {@code uri}; failures are {@link io.siphon.api.SiphonException}s. */
    DriverSession open(URI uri);
}
