package io.siphon.domain;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * One {@code <disk>} of a domain definition; immutable.
 *
 * @param target the guest-visible name ({@code <target dev='vda'/>})
 * @param source the top image file, absolute ({@code <source file='...'/>})
 * @param format qcow2, qed or raw ({@code <driver type='...'/>}); empty to probe by magic
 * @param copyOnRead {@code <driver copy_on_read='on'/>}
 * @param readOnly {@code <readonly/>}
 * @param bus the guest's bus ({@code <target bus='virtio'/>}); without one, libvirt's default for the
 *     target's prefix (vd virtio, sd scsi, hd ide), else ""
 */
public record DiskDefinition(
        String target, Path source, Optional<String> format, boolean copyOnRead, boolean readOnly, String bus) {
    public DiskDefinition {
        Objects.requireNonNull(target, "target");
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(format, "format");
        Objects.requireNonNull(bus, "bus");
    }

    /** A disk on the default bus of its target's prefix. */
    public DiskDefinition(String target, Path source, Optional<String> format, boolean copyOnRead, boolean readOnly) {
        this(target, source, format, copyOnRead, readOnly, defaultBus(target));
    }

    /** libvirt's bus for a target without {@code bus='...'}. */
    static String defaultBus(String target) {
        if (target.startsWith("vd")) {
            return "virtio";
        } else if (target.startsWith("sd")) {
            return "scsi";
        } else if (target.startsWith("hd")) {
            return "ide";
        }
        return "";
    }
}
