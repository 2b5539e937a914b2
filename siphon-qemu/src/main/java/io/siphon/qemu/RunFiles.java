package io.siphon.qemu;

import io.siphon.api.ErrorCode;
import io.siphon.api.SiphonException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The files of one domain's QEMU process in the state directory's {@code run/}: {@code NAME.qmp}
 * (monitor), {@code NAME.nbd} (exports), {@code NAME.pid}, {@code NAME.log} (QEMU's output) and
 * {@code NAME.TARGET.pull} (a pull in flight), which let a restarted driver find the process again.
 */
record RunFiles(Path qmpSocket, Path nbdSocket, Path pidFile, Path logFile, Path run, String domain) {
    /** sun_path holds 108 bytes with the terminating NUL. */
    private static final int MAX_SOCKET_PATH_BYTES = 107;

    static RunFiles of(Path run, String domain) {
        return new RunFiles(
                run.resolve(domain + ".qmp"),
                run.resolve(domain + ".nbd"),
                run.resolve(domain + ".pid"),
                run.resolve(domain + ".log"),
                run,
                domain);
    }

    /** Refuses socket paths longer than a Unix socket address holds, naming the path. */
    void checkSocketPaths() {
        for (Path socket : List.of(qmpSocket, nbdSocket)) {
            if (socket.toString().getBytes(StandardCharsets.UTF_8).length > MAX_SOCKET_PATH_BYTES) {
                throw new SiphonException(
                        ErrorCode.OPERATION_FAILED,
                        "socket path " + socket + " is longer than " + MAX_SOCKET_PATH_BYTES
                                + " bytes; use a shorter state directory or domain name");
            }
        }
    }

    Path pullRecord(String target) {
        return run.resolve(domain + "." + target + ".pull");
    }

    /** Removes what a stopped process leaves (its log stays, for a post-mortem). */
    void deleteStale(List<String> targets) throws IOException {
        Files.deleteIfExists(qmpSocket);
        Files.deleteIfExists(nbdSocket);
        Files.deleteIfExists(pidFile);
        for (String target : targets) {
            Files.deleteIfExists(pullRecord(target));
        }
    }
}
