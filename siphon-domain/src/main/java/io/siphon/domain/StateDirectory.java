package io.siphon.domain;

import io.siphon.api.ErrorCode;
import io.siphon.api.SiphonException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import java.util.function.Consumer;

/**
 * A driver's state directory, mode 0700: {@code domains/NAME.xml} (the definitions, see {@link
 * DomainDefinitions}), {@code autostart/NAME.xml} (links to those marked autostart), whatever subdirectories the driver adds, and {@code lock}, held while one
 * process manages it. Files are replaced atomically and durably. Thread-safe.
 */
public final class StateDirectory implements AutoCloseable {
    private static final FileAttribute<Set<PosixFilePermission>> OWNER_ONLY =
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"));

    private static final String TEMPORARY_SUFFIX = ".tmp";

    /** Told each step of a state-file write; a no-op unless a crash test's process set one. */
    private static volatile Consumer<String> steps = step -> {};

    private final Path root;
    private final FileChannel lockChannel;
    private final FileLock lock;

    private StateDirectory(Path root, FileChannel lockChannel, FileLock lock) {
        this.root = root;
        this.lockChannel = lockChannel;
        this.lock = lock;
    }

    /**
     * Opens (creating) {@code root} and its {@code domains} directory and locks it against other
     * processes; a directory locked elsewhere is {@link ErrorCode#OPERATION_FAILED} naming it.
     */
    public static StateDirectory open(Path root) {
        try {
            createDirectory(root);
            createDirectory(root.resolve("domains"));
            createDirectory(root.resolve("autostart"));
            FileChannel channel =
                    FileChannel.open(root.resolve("lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLock lock;
            try {
                lock = channel.tryLock();
            } catch (OverlappingFileLockException e) {
                lock = null;
            }
            if (lock == null) {
                channel.close();
                throw new SiphonException(
                        ErrorCode.OPERATION_FAILED, "state directory " + root + " is in use by another Siphon process");
            }
            removeTemporaries(root);
            return new StateDirectory(root, channel, lock);
        } catch (IOException e) {
            throw new SiphonException(
                    ErrorCode.OPERATION_FAILED,
                    "cannot open state directory " + root + ": " + IoMessages.describe(e),
                    e);
        }
    }

    /**
     * Deletes what a crash in the middle of {@link #writeAtomically} left: a {@code .tmp} file in the
     * state directory or one of its subdirectories. Only the lock's holder writes there, so none of
     * them is being written now; the file each was to replace is whole.
     */
    private static void removeTemporaries(Path root) throws IOException {
        try (var entries = Files.list(root)) {
            for (Path entry : (Iterable<Path>) entries::iterator) {
                if (Files.isDirectory(entry, LinkOption.NOFOLLOW_LINKS)) {
                    try (var files = Files.list(entry)) {
                        for (Path file : (Iterable<Path>) files::iterator) {
                            deleteIfTemporary(file);
                        }
                    }
                } else {
                    deleteIfTemporary(entry);
                }
            }
        }
    }

    private static void deleteIfTemporary(Path file) throws IOException {
        if (file.getFileName().toString().endsWith(TEMPORARY_SUFFIX)
                && Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
            Files.delete(file);
        }
    }

    public Path root() {
        return root;
    }

    /** The subdirectory {@code name}, created (mode 0700) if missing. */
    public Path subdirectory(String name) throws IOException {
        Path dir = root.resolve(name);
        createDirectory(dir);
        return dir;
    }

    Path domains() {
        return root.resolve("domains");
    }

    Path autostart() {
        return root.resolve("autostart");
    }

    /**
     * Has {@code listener} told each step a state-file write or delete has made, named {@code
     * state.DIR.STEP} after the file's directory ({@code state.jobs.tmp.flushed}): {@code
     * tmp.written}, {@code tmp.flushed}, {@code renamed}, {@code dir.flushed} for {@link
     * #writeAtomically}, {@code deleted} and {@code dir.flushed} for {@link #deleteDurably}. The
     * daemon points it at its crash points (siphon-core's {@code CrashPoints}), which this module
     * does not depend on.
     */
    public static void reportStepsTo(Consumer<String> listener) {
        steps = listener;
    }

    /**
     * Writes {@code text} to a temporary file beside {@code target}, syncs it, renames it over
     * {@code target} and syncs the directory: a crash leaves the old or the new file, never a part;
     * a failure (a full disk) removes the temporary file.
     */
    public static void writeAtomically(Path target, String text) throws IOException {
        Path temporary = target.resolveSibling(target.getFileName() + TEMPORARY_SUFFIX);
        try {
            try (FileChannel channel = FileChannel.open(
                    temporary,
                    StandardOpenOption.CREATE,
                    StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                ByteBuffer bytes = ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
                while (bytes.hasRemaining()) {
                    channel.write(bytes);
                }
                reached(target, "tmp.written");
                channel.force(true);
                reached(target, "tmp.flushed");
            }
            Files.move(temporary, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            reached(target, "renamed");
        } catch (IOException e) {
            // a full disk leaves an empty or partial temporary file; it must not outlive the failure
            try {
                Files.deleteIfExists(temporary);
            } catch (IOException deleteFailure) {
                e.addSuppressed(deleteFailure);
            }
            if (e instanceof FileSystemException) {
                throw e;
            }
            // a write's "No space left on device" names no file; say which
            FileSystemException named = new FileSystemException(temporary.toString(), null, e.getMessage());
            named.initCause(e);
            throw named;
        }
        syncDirectory(target);
    }

    /**
     * Deletes {@code target} if it exists and syncs its directory, so that a crash after the call
     * cannot bring the file back.
     */
    public static void deleteDurably(Path target) throws IOException {
        if (Files.deleteIfExists(target)) {
            reached(target, "deleted");
            syncDirectory(target);
        }
    }

    /** Makes the entries of {@code target}'s directory (its rename, a link to it, its deletion) durable. */
    static void syncDirectory(Path target) throws IOException {
        try (FileChannel dir = FileChannel.open(target.getParent(), StandardOpenOption.READ)) {
            dir.force(true);
        }
        reached(target, "dir.flushed");
    }

    private static void reached(Path target, String step) {
        steps.accept("state." + target.getParent().getFileName() + "." + step);
    }

    private static void createDirectory(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            Files.createDirectories(dir, OWNER_ONLY);
        }
    }

    /** Releases the lock; another process may then open the directory. */
    @Override
    public void close() throws IOException {
        try {
            lock.release();
        } finally {
            lockChannel.close();
        }
    }
}
