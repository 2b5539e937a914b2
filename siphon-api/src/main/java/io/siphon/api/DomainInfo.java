package io.siphon.api;

import java.util.Objects;
import java.util.UUID;

/**
 * What a domain is and whether it runs.
 *
 * @param name the domain's unique name
 * @param uuid the domain's unique UUID
 * @param state shut off or running
 * @param diskCount number of disks in the definition
 * @param autostart whether the domain starts when its daemon starts
 */
public record DomainInfo(String name, UUID uuid, DomainState state, int diskCount, boolean autostart) {
    public DomainInfo {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(uuid, "uuid");
        Objects.requireNonNull(state, "state");
        if (diskCount < 0) {
            throw new IllegalArgumentException("diskCount " + diskCount + " < 0");
        }
    }

    /** A domain that is not marked autostart. */
    public DomainInfo(String name, UUID uuid, DomainState state, int diskCount) {
        this(name, uuid, state, diskCount, false);
    }
}
