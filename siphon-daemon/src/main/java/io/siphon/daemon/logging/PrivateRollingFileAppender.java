package io.siphon.daemon.logging;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.rolling.RollingFileAppender;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * A rolling log file that is created mode 0600 whatever the umask, the active file and each new one
 * after a rollover alike (archives are renamed, so they keep the mode): the log names domains,
 * image files and clients.
 */
public final class PrivateRollingFileAppender extends RollingFileAppender<ILoggingEvent> {
    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");
    private static final Set<PosixFilePermission> PRIVATE_DIRECTORY = PosixFilePermissions.fromString("rwx------");

    @Override
    public void openFile(String fileName) throws IOException {
        Path file = Path.of(fileName);
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null && !Files.isDirectory(parent)) {
            Files.createDirectories(parent, PosixFilePermissions.asFileAttribute(PRIVATE_DIRECTORY));
        }
        try {
            Files.createFile(file, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
        } catch (FileAlreadyExistsException existing) {
            Files.setPosixFilePermissions(file, OWNER_ONLY);
        }
        super.openFile(fileName);
    }
}
