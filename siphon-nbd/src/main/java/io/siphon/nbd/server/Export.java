package io.siphon.nbd.server;

import io.siphon.block.BlockDevice;
import io.siphon.block.filter.GuestIoStats;
import io.siphon.nbd.protocol.CommandType;
import java.util.Objects;

/**
 * One named device the server offers. Every connection to it shares {@code device}, so a flush on
 * one connection covers writes completed on any other (what NBD's multi-conn flag promises), and
 * {@code guestIo}, where every connection counts its data requests from arrival to reply.
 */
record Export(String name, String description, BlockDevice device, boolean readOnly, GuestIoStats guestIo) {
    Export {
        if (WireLimits.nameTooLong(name)) {
            throw new IllegalArgumentException("export name '" + name + "' is longer than 4096 bytes");
        }
        Objects.requireNonNull(guestIo, "guestIo");
    }

    /**
     * Whether a request of {@code type} counts as the guest's I/O: the data requests, as a disk's
     * gate counts them; a flush's or a status query's time says nothing of the disk's load.
     */
    static boolean countsAsGuestIo(CommandType type) {
        return type == CommandType.READ
                || type == CommandType.WRITE
                || type == CommandType.WRITE_ZEROES
                || type == CommandType.TRIM;
    }

    /** How {@code virsh domblkstat} counts a request (write-zeroes as a write, as QEMU does). */
    static GuestIoStats.Kind guestIoKind(CommandType type) {
        return switch (type) {
            case READ -> GuestIoStats.Kind.READ;
            case WRITE, WRITE_ZEROES -> GuestIoStats.Kind.WRITE;
            default -> GuestIoStats.Kind.OTHER;
        };
    }

    /** Whether clients may write: neither the export nor the device refuses. */
    boolean writable() {
        return !readOnly && !device.isReadOnly();
    }
}
