package io.siphon.domain;

import io.siphon.api.DomainInfo;
import io.siphon.api.DomainState;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;

/**
 * What Siphon reads of a libvirt domain XML, with the XML itself as it is persisted; immutable.
 *
 * @param name the unique name
 * @param uuid the unique UUID (generated when the XML had none, and written into {@code xml})
 * @param disks the file-backed disks, in document order
 * @param machine the VM the XML describes; empty for a disks-only domain
 * @param xml the definition as persisted
 */
public record DomainDefinition(
        String name, UUID uuid, List<DiskDefinition> disks, Optional<MachineDefinition> machine, String xml) {
    public DomainDefinition {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(uuid, "uuid");
        disks = List.copyOf(disks);
        Objects.requireNonNull(machine, "machine");
        Objects.requireNonNull(xml, "xml");
    }

    /** A disks-only domain. */
    public DomainDefinition(String name, UUID uuid, List<DiskDefinition> disks, String xml) {
        this(name, uuid, disks, Optional.empty(), xml);
    }

    /** What the API reports of this domain when it is {@code running} or not, and marked {@code autostart}. */
    public DomainInfo info(boolean running, boolean autostart) {
        return new DomainInfo(name, uuid, running ? DomainState.RUNNING : DomainState.SHUTOFF, disks.size(), autostart);
    }

    /** The disk named by target (vda) or by source path. */
    public Optional<DiskDefinition> disk(String targetOrSource) {
        for (DiskDefinition disk : disks) {
            if (disk.target().equals(targetOrSource) || disk.source().toString().equals(targetOrSource)) {
                return Optional.of(disk);
            }
        }
        return Optional.empty();
    }
}
