package io.siphon.cli.image;

import io.siphon.format.OpenOptions;
import picocli.CommandLine.Option;

/** The {@code -U/--force-share} option of the read-only image commands, as qemu-img's. */
final class ForceShareOption {
    @Option(
            names = {"-U", "--force-share"},
            description = "Open without locks, even if another process is writing the image.")
    boolean forceShare;

    /** How a read-only command opens its images. */
    OpenOptions readOnly() {
        return forceShare ? OpenOptions.FORCE_SHARE : OpenOptions.READ_ONLY;
    }
}
