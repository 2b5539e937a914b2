package io.siphon.qemu;

import java.util.Objects;

/**
 * The QEMU programs the driver runs, by name on PATH or by absolute path; the system properties
 * {@code siphon.qemu.storage-daemon} and {@code siphon.qemu.img} override the defaults.
 *
 * @param storageDaemon the process of a domain with disks only
 * @param qemuImg what reads a disk's backing chain before it is opened
 */
record QemuBinaries(String storageDaemon, String qemuImg) {
    QemuBinaries {
        Objects.requireNonNull(storageDaemon, "storageDaemon");
        Objects.requireNonNull(qemuImg, "qemuImg");
    }

    static QemuBinaries fromSystemProperties() {
        return new QemuBinaries(
                System.getProperty("siphon.qemu.storage-daemon", "qemu-storage-daemon"),
                System.getProperty("siphon.qemu.img", "qemu-img"));
    }
}
