package io.siphon.daemon;

import io.siphon.api.ErrorCode;
import io.siphon.api.SiphonException;
import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The daemon's state directory: {@code domains/NAME.xml} (definitions), {@code jobs/NAME.TARGET.job}
 * (running pulls), {@code run/} (NBD sockets), and {@code lock}, held while one process manages it.
 * Files are replaced atomically and durably. Not thread-safe: the domain manager serializes calls.
 */
final class StateDirectory implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(StateDirectory.class);

    private final Path root;
    private final FileChannel lockChannel;
    private final FileLock lock;

    private StateDirectory(Path root, FileChannel lockChannel, FileLock lock) {
        this.root = root;
        this.lockChannel = lockChannel;
        this.lock = lock;
    }

    /** Opens (creating, mode 0700) the directory and locks it against other processes. */
    static StateDirectory open(Path root) {
        try {
            for (Path dir : List.of(root, root.resolve("domains"), root.resolve("jobs"), root.resolve("run"))) {
                if (!Files.isDirectory(dir)) {
                    Files.createDirectories(
                            dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
                }
            }
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
                        ErrorCode.OPERATION_FAILED, "state directory " + root + " is in use by another Siphon daemon");
            }
            return new StateDirectory(root, channel, lock);
        } catch (IOException e) {
            throw new SiphonException(ErrorCode.OPERATION_FAILED, "cannot open state directory " + root + ": " + e, e);
        }
    }

    Path root() {
        return root;
    }

    Path runDirectory() {
        return root.resolve("run");
    }

    List<String> loadDomainXmls() throws IOException {
        List<String> out = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(root.resolve("domains"), "*.xml")) {
            for (Path file : files) {
                out.add(Files.readString(file, StandardCharsets.UTF_8));
            }
        }
        return out;
    }

    void saveDomain(String name, String xml) throws IOException {
        replace(root.resolve("domains").resolve(name + ".xml"), xml);
    }

    void deleteDomain(String name) throws IOException {
        Files.deleteIfExists(root.resolve("domains").resolve(name + ".xml"));
    }

    void saveJob(String domain, PersistedJob job) throws IOException {
        Properties p = new Properties();
        p.setProperty("disk", job.disk());
        job.base().ifPresent(b -> p.setProperty("base", b));
        p.setProperty("keep-relative", Boolean.toString(job.keepRelative()));
        p.setProperty("bandwidth-bytes", Long.toString(job.bytesPerSecond()));
        StringWriter text = new StringWriter();
        p.store(text, "block pull of " + domain + " " + job.disk());
        replace(jobFile(domain, job.disk()), text.toString());
    }

    void deleteJob(String domain, String disk) throws IOException {
        Files.deleteIfExists(jobFile(domain, disk));
    }

    /** The job recorded for {@code disk}, if any; a damaged record is logged and ignored. */
    Optional<PersistedJob> loadJob(String domain, String disk) {
        Path file = jobFile(domain, disk);
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        try {
            Properties p = new Properties();
            p.load(new StringReader(Files.readString(file, StandardCharsets.UTF_8)));
            return Optional.of(new PersistedJob(
                    p.getProperty("disk", disk),
                    Optional.ofNullable(p.getProperty("base")),
                    Boolean.parseBoolean(p.getProperty("keep-relative", "false")),
                    Long.parseLong(p.getProperty("bandwidth-bytes", "0"))));
        } catch (IOException | IllegalArgumentException e) {
            LOG.warn("ignoring damaged job record {}: {}", file, e.toString());
            return Optional.empty();
        }
    }

    private Path jobFile(String domain, String disk) {
        return root.resolve("jobs").resolve(domain + "." + disk + ".job");
    }

    /** Writes {@code text} to a temporary file, syncs it, and renames it over {@code target}. */
    private static void replace(Path target, String text) throws IOException {
        Path temporary = target.resolveSibling(target.getFileName() + ".tmp");
        try (FileChannel channel = FileChannel.open(
                temporary, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
            channel.write(java.nio.ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)));
            channel.force(true);
        }
        Files.move(temporary, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        try (FileChannel dir = FileChannel.open(target.getParent(), StandardOpenOption.READ)) {
            dir.force(true);
        }
    }

    @Override
    public void close() throws IOException {
        lock.release();
        lockChannel.close();
    }
}
