package io.siphon.nbd.server;

import io.siphon.block.BlockDevice;

/**
 * One named device the server offers. Every connection to it shares {@code device}, so a flush on
 * one connection covers writes completed on any other (what NBD's multi-conn flag promises).
 */
record Export(String name, String description, BlockDevice device, boolean readOnly) {
    Export {
        if (WireLimits.nameTooLong(name)) {
            throw new IllegalArgumentException("export name '" + name + "' is longer than 4096 bytes");
        }
    }

    /** Whether clients may write: neither the export nor the device refuses. */
    boolean writable() {
        return !readOnly && !device.isReadOnly();
    }
}
