package io.siphon.daemon.vm;

import java.nio.file.Path;
import java.util.Objects;

/**
 * A machine's disk as an NBD client of one of the daemon's exports; immutable.
 *
 * @param target the disk's target (vda)
 * @param socket the daemon's NBD socket
 * @param exportName the export ({@code DOMAIN/TARGET})
 * @param readOnly whether the guest sees the disk read-only
 */
public record NbdDrive(String target, Path socket, String exportName, boolean readOnly) {
    public NbdDrive {
        Objects.requireNonNull(target, "target");
        Objects.requireNonNull(socket, "socket");
        Objects.requireNonNull(exportName, "exportName");
    }
}
