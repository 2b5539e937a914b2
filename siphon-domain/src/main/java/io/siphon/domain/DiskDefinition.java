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
 */
public record DiskDefinition(
        String target, Path source, Optional<String> format, boolean copyOnRead, boolean readOnly) {
    public DiskDefinition {
        Objects.requireNonNull(target, "target");
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(format, "format");
    }
}
