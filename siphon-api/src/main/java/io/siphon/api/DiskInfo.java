package io.siphon.api;

import java.util.Objects;
import java.util.Optional;

/**
 * One disk of a domain, as {@code virsh domblklist --details} shows it plus its NBD export.
 *
 * @param target the guest-visible name (vda)
 * @param source the top image file
 * @param format the top image's format (qcow2, qed, raw)
 * @param readOnly whether the disk is exported read-only
 * @param copyOnRead whether reads of backing data are copied into the top
 * @param nbdUri the disk's NBD export while the domain runs (nbd+unix:// or nbd://), else empty
 */
public record DiskInfo(
        String target, String source, String format, boolean readOnly, boolean copyOnRead, Optional<String> nbdUri) {
    public DiskInfo {
        Objects.requireNonNull(target, "target");
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(format, "format");
        Objects.requireNonNull(nbdUri, "nbdUri");
    }
}
