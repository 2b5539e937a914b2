package io.siphon.format;

/** What {@code check} may repair, as {@code qemu-img check -r}. */
public enum RepairMode {
    NONE,
    LEAKS,
    ALL
}
