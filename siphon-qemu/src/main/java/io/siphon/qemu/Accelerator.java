package io.siphon.qemu;

/** How a machine's CPUs run: on the host's KVM, or emulated by QEMU's TCG. */
public enum Accelerator {
    KVM("kvm"),
    TCG("tcg");

    private final String qemuName;

    Accelerator(String qemuName) {
        this.qemuName = qemuName;
    }

    /** The name {@code -machine accel=} takes. */
    public String qemuName() {
        return qemuName;
    }
}
