package io.siphon.format;

import io.siphon.util.posix.LockType;
import io.siphon.util.posix.NativeFile;
import java.io.IOException;
import java.util.Collections;
import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;

/**
 * QEMU's image locking (block/file-posix.c), so that Siphon and QEMU processes refuse each other's
 * conflicting opens of one image file. Each block-layer permission has two lock bytes in the file:
 * byte {@code 100 + bit} is held (as a shared OFD lock) by every opener that holds the permission,
 * and byte {@code 200 + bit} by every opener that does not share it with others. An opener takes its
 * bytes first and then tests, for each permission it holds, whether anyone refuses to share it, and
 * for each permission it refuses to share, whether anyone holds it; taking before testing means two
 * racing conflicting openers cannot both succeed.
 *
 * <p>Stateless; the locks live in the {@link NativeFile}'s open file description and go with it.
 */
final class QemuLockBytes {
    /** QEMU's block permissions (include/block/block-common.h), in bit order. */
    enum Permission {
        CONSISTENT_READ("consistent read"),
        WRITE("write"),
        WRITE_UNCHANGED("write unchanged"),
        RESIZE("resize");

        private final String qemuName;

        Permission(String qemuName) {
            this.qemuName = qemuName;
        }

        long heldByte() {
            return PERM_BASE + ordinal();
        }

        long notSharedByte() {
            return SHARED_BASE + ordinal();
        }
    }

    /**
     * What an opener holds and what it lets others hold at the same time.
     *
     * @param held permissions this opener uses
     * @param shared permissions others may hold meanwhile
     */
    record Request(Set<Permission> held, Set<Permission> shared) {
        Request {
            held = inBitOrder(held);
            shared = inBitOrder(shared);
        }

        // QEMU tests permissions in bit order; so do we, so that the first conflict named is the same
        private static Set<Permission> inBitOrder(Set<Permission> permissions) {
            EnumSet<Permission> ordered = EnumSet.noneOf(Permission.class);
            ordered.addAll(permissions);
            return Collections.unmodifiableSet(ordered);
        }

        Set<Permission> notShared() {
            EnumSet<Permission> notShared = EnumSet.allOf(Permission.class);
            notShared.removeAll(shared);
            return notShared;
        }
    }

    static final long PERM_BASE = 100;
    static final long SHARED_BASE = 200;

    /** A writer, as a running VM or qemu-io opens its disk: others may read and write unchanged data. */
    static final Request WRITER = new Request(
            EnumSet.allOf(Permission.class), EnumSet.of(Permission.CONSISTENT_READ, Permission.WRITE_UNCHANGED));

    /** A reader that refuses writers and resizers, as qemu-img info (without -U) and backing files. */
    static final Request READER = new Request(
            EnumSet.of(Permission.CONSISTENT_READ), EnumSet.of(Permission.CONSISTENT_READ, Permission.WRITE_UNCHANGED));

    private QemuLockBytes() {}

    /** The request an image opened with {@code options} makes; empty for force-share (no locks). */
    static Optional<Request> requestFor(OpenOptions options) {
        if (options.forceShare()) {
            return Optional.empty();
        }
        return Optional.of(options.writable() ? WRITER : READER);
    }

    /**
     * Takes {@code request}'s lock bytes on {@code file} and checks that no other opener conflicts. A
     * conflict is an {@link ImageFormatException} with reason {@code LOCKED}; the bytes already taken
     * stay with {@code file} until it is closed, which the caller does on failure.
     */
    static void acquire(NativeFile file, Request request) throws IOException {
        for (Permission permission : request.held()) {
            take(file, permission.heldByte());
        }
        for (Permission permission : request.notShared()) {
            take(file, permission.notSharedByte());
        }
        for (Permission permission : request.held()) {
            if (file.conflictingLock(permission.notSharedByte(), 1, LockType.EXCLUSIVE)
                    .isPresent()) {
                throw locked(file, "Failed to get \"" + permission.qemuName + "\" lock");
            }
        }
        for (Permission permission : request.notShared()) {
            if (file.conflictingLock(permission.heldByte(), 1, LockType.EXCLUSIVE)
                    .isPresent()) {
                throw locked(file, "Failed to get shared \"" + permission.qemuName + "\" lock");
            }
        }
    }

    private static void take(NativeFile file, long lockByte) throws IOException {
        // shared locks only conflict with exclusive ones, which QEMU never takes on these bytes
        if (!file.tryLock(lockByte, 1, LockType.SHARED)) {
            throw locked(file, "Failed to lock byte " + lockByte);
        }
    }

    private static ImageFormatException locked(NativeFile file, String what) {
        return new ImageFormatException(
                ImageFormatException.Reason.LOCKED,
                file.path(),
                "lock",
                what + ": is another process using the image?");
    }
}
