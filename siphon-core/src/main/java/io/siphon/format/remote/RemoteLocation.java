package io.siphon.format.remote;

import java.net.URI;
import java.util.Objects;
import java.util.Optional;

/**
 * A remote object's place, parsed from a backing name by {@link RemoteNames}.
 *
 * @param uri the canonical URL ({@code nbd+unix:///EXPORT?socket=PATH}, {@code nbd://HOST:PORT/EXPORT},
 *     {@code http(s)://…}, {@code s3://BUCKET/KEY}); the cache keys objects by it
 * @param name the backing name as written (a URL or QEMU's {@code json:} name), for messages
 * @param format the image format the name itself records ({@code json:{"driver":"qcow2",…}}), if any
 */
public record RemoteLocation(URI uri, String name, Optional<String> format) {
    public RemoteLocation {
        Objects.requireNonNull(uri, "uri");
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(format, "format");
    }

    public String scheme() {
        return uri.getScheme();
    }
}
