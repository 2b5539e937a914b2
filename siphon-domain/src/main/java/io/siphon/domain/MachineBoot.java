package io.siphon.domain;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/** How a machine boots: libvirt's direct kernel boot, or from its first disk. */
public sealed interface MachineBoot {
    /**
     * {@code <os><kernel>/<initrd>/<cmdline>}: QEMU loads the kernel itself.
     *
     * @param kernel the kernel image, absolute
     * @param initrd the initial ramdisk, absolute, if any
     * @param cmdline the kernel command line ("" for none)
     */
    record Kernel(Path kernel, Optional<Path> initrd, String cmdline) implements MachineBoot {
        public Kernel {
            Objects.requireNonNull(kernel, "kernel");
            Objects.requireNonNull(initrd, "initrd");
            Objects.requireNonNull(cmdline, "cmdline");
        }
    }

    /** {@code <os><boot dev='hd'/>}: the firmware boots the first disk. */
    record FirstDisk() implements MachineBoot {}
}
