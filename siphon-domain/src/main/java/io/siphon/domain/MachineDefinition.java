package io.siphon.domain;

import java.util.Objects;
import java.util.Optional;

/**
 * The virtual machine a domain XML describes (its {@code <os>} has a {@code <kernel>} or a
 * {@code <boot>}); immutable. A domain without one is disks-only: starting it serves its disks and
 * runs no VM.
 *
 * @param memoryBytes {@code <memory>}, in bytes
 * @param vcpus {@code <vcpu>}
 * @param emulator {@code <devices><emulator>}: a path, or a program name looked up on PATH
 * @param boot how the machine boots
 * @param serial the first serial port ({@code <serial>}, else {@code <console>}); empty for none
 * @param softwareOnly {@code <domain type='qemu'>}: libvirt's request for TCG, never KVM
 */
public record MachineDefinition(
        long memoryBytes,
        int vcpus,
        String emulator,
        MachineBoot boot,
        Optional<SerialPort> serial,
        boolean softwareOnly) {
    /** The emulator when the XML names none. */
    public static final String DEFAULT_EMULATOR = "qemu-system-x86_64";

    public MachineDefinition {
        if (memoryBytes <= 0) {
            throw new IllegalArgumentException("memoryBytes " + memoryBytes + " must be positive");
        }
        if (vcpus <= 0) {
            throw new IllegalArgumentException("vcpus " + vcpus + " must be positive");
        }
        Objects.requireNonNull(emulator, "emulator");
        Objects.requireNonNull(boot, "boot");
        Objects.requireNonNull(serial, "serial");
    }
}
