package io.siphon.api;

import java.util.Objects;

/**
 * What a connection runs on, as {@code virsh version} shows it.
 *
 * @param driver the driver that runs the domains: {@code embedded} or {@code qemu} (a daemon's, for a
 *     remote connection)
 * @param driverVersion the Siphon version of the process that runs that driver
 * @param hypervisor what runs the disks: {@code Siphon} for the embedded engine, {@code QEMU}
 * @param hypervisorVersion its version
 */
public record VersionInfo(String driver, String driverVersion, String hypervisor, String hypervisorVersion) {
    public VersionInfo {
        Objects.requireNonNull(driver, "driver");
        Objects.requireNonNull(driverVersion, "driverVersion");
        Objects.requireNonNull(hypervisor, "hypervisor");
        Objects.requireNonNull(hypervisorVersion, "hypervisorVersion");
    }
}
