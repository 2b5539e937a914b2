package io.siphon.protocol;

import java.util.List;
import java.util.Objects;

/**
 * The first message a server sends: its version and capabilities ({@code events}, and {@code
 * read-only} on a read-only socket).
 *
 * @param version the server's version (major.minor.micro)
 * @param capabilities what the server offers
 */
public record Greeting(String version, List<String> capabilities) implements Message {
    public Greeting {
        Objects.requireNonNull(version, "version");
        capabilities = List.copyOf(capabilities);
    }
}
