package io.siphon.format;

import java.util.OptionalLong;

/**
 * One internal snapshot of an image, with what {@code qemu-img info} and {@code snapshot -l} show.
 *
 * @param id the snapshot's ID string (QEMU numbers them from 1)
 * @param name the snapshot's tag
 * @param dateSeconds when it was taken, seconds since the epoch, with {@code dateNanos}
 * @param vmClockNanos the guest clock at the snapshot (0 for a disk-only snapshot)
 * @param vmStateBytes saved VM state (0 for a disk-only snapshot)
 * @param icount the instruction count at the snapshot, when recorded
 */
public record ImageSnapshot(
        String id,
        String name,
        long dateSeconds,
        long dateNanos,
        long vmClockNanos,
        long vmStateBytes,
        OptionalLong icount) {}
