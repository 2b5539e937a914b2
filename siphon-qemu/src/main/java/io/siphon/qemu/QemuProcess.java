package io.siphon.qemu;

import io.siphon.api.ErrorCode;
import io.siphon.api.SiphonException;
import io.siphon.qemu.qmp.QmpClient;
import io.siphon.qemu.qmp.QmpCommand;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One QEMU process with its monitor: launched by this driver (its output in a log file) or found
 * again after a restart through its pid file and QMP socket. It outlives the JVM, as a VM outlives
 * libvirtd. Thread-safe.
 */
final class QemuProcess implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(QemuProcess.class);
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);
    private static final java.util.concurrent.Executor ENDINGS =
            task -> Thread.ofVirtual().name("qemu-process-end").start(task);

    private final ProcessHandle handle;
    private final QmpClient qmp;
    private final Path logFile;
    private final CompletableFuture<String> ended = new CompletableFuture<>();
    private volatile boolean stopping;

    private QemuProcess(ProcessHandle handle, QmpClient qmp, Path logFile) {
        this.handle = handle;
        this.qmp = qmp;
        this.logFile = logFile;
        // asynchronously: a waiter on the monitor may hold the lock the end's handling needs
        handle.onExit().thenRunAsync(() -> ended.complete(exitReason()), ENDINGS);
        qmp.closed()
                .thenAcceptAsync(
                        reason -> {
                            // the socket closes as the process dies: say which of the two it was
                            ended.complete(
                                    awaitExit(handle, Duration.ofSeconds(2))
                                            ? exitReason()
                                            : "QEMU process " + handle.pid() + " lost its monitor: "
                                                    + reason.getMessage());
                        },
                        ENDINGS);
    }

    /** {@code block-export-add} and the copy-on-read filter's {@code bottom} are in QEMU 6.0. */
    private static final int MIN_MAJOR = 6;

    /**
     * Starts the {@code qemu-storage-daemon} {@code binary} with its monitor on {@code
     * files.qmpSocket()} and checks its version; one older than 6.0 is refused in one line naming it.
     */
    static QemuProcess launchStorageDaemon(String binary, RunFiles files) {
        // QEMU's option syntax doubles a comma inside a value
        String qmp = files.qmpSocket().toString().replace(",", ",,");
        QemuProcess process = launch(
                binary,
                List.of(
                        "--chardev",
                        "socket,id=monitor,path=" + qmp + ",server=on,wait=off",
                        "--monitor",
                        "chardev=monitor"),
                files);
        try {
            QmpCommand.VersionReply.QemuVersion version =
                    process.qmp().execute(new QmpCommand.QueryVersion()).qemu();
            if (version.major() < MIN_MAJOR) {
                throw new SiphonException(
                        ErrorCode.OPERATION_FAILED,
                        binary + " " + version.major() + "." + version.minor() + "." + version.micro()
                                + " is too old: the qemu driver needs " + MIN_MAJOR + ".0 or newer");
            }
            return process;
        } catch (SiphonException e) {
            process.kill();
            throw e;
        }
    }

    /**
     * Starts {@code binary} with {@code arguments} (which must open the monitor on {@code
     * files.qmpSocket()}), and connects to it. A binary not found, or a process that exits or never
     * opens its monitor, is {@link ErrorCode#OPERATION_FAILED} with QEMU's own last words.
     */
    static QemuProcess launch(String binary, List<String> arguments, RunFiles files) {
        Path executable = findOnPath(binary);
        List<String> command = new ArrayList<>();
        command.add(executable.toString());
        command.addAll(arguments);
        Process process;
        try {
            Files.deleteIfExists(files.qmpSocket());
            process = new ProcessBuilder(command)
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.to(files.logFile().toFile()))
                    .start();
            Files.writeString(files.pidFile(), process.pid() + "\n", StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new SiphonException(ErrorCode.OPERATION_FAILED, "cannot run " + executable + ": " + e, e);
        }
        long deadline = System.nanoTime() + CONNECT_TIMEOUT.toNanos();
        while (true) {
            if (!process.isAlive()) {
                awaitExit(process.toHandle(), Duration.ofSeconds(1));
                throw new SiphonException(
                        ErrorCode.OPERATION_FAILED,
                        binary + " exited with status " + process.exitValue() + lastWords(files.logFile()));
            }
            if (Files.exists(files.qmpSocket())) {
                try {
                    return new QemuProcess(
                            process.toHandle(), QmpClient.connect(files.qmpSocket(), CONNECT_TIMEOUT), files.logFile());
                } catch (SiphonException e) {
                    if (System.nanoTime() > deadline) {
                        process.destroyForcibly();
                        throw e;
                    }
                }
            }
            if (System.nanoTime() > deadline) {
                process.destroyForcibly();
                throw new SiphonException(
                        ErrorCode.OPERATION_FAILED,
                        binary + " opened no monitor on " + files.qmpSocket() + " within " + CONNECT_TIMEOUT.toSeconds()
                                + " s" + lastWords(files.logFile()));
            }
            try {
                // the monitor socket appears a few milliseconds after exec; nothing to wait on but the file
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                process.destroyForcibly();
                throw new SiphonException(ErrorCode.OPERATION_FAILED, "interrupted starting " + binary);
            }
        }
    }

    /**
     * The process recorded in {@code files}, when it still runs with that monitor socket on its
     * command line (a recycled pid is not it) and its monitor answers.
     */
    static Optional<QemuProcess> reattach(RunFiles files) {
        long pid;
        try {
            pid = Long.parseLong(
                    Files.readString(files.pidFile(), StandardCharsets.US_ASCII).trim());
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
        Optional<ProcessHandle> handle = ProcessHandle.of(pid).filter(ProcessHandle::isAlive);
        if (handle.isEmpty() || !commandLine(pid).contains(files.qmpSocket().toString())) {
            return Optional.empty();
        }
        try {
            return Optional.of(new QemuProcess(
                    handle.get(), QmpClient.connect(files.qmpSocket(), CONNECT_TIMEOUT), files.logFile()));
        } catch (SiphonException e) {
            LOG.warn(
                    "QEMU process {} runs but its monitor {} does not answer: {}",
                    pid,
                    files.qmpSocket(),
                    e.getMessage());
            return Optional.empty();
        }
    }

    private static String commandLine(long pid) {
        try {
            return new String(
                            Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline")), StandardCharsets.UTF_8)
                    .replace('\0', ' ');
        } catch (IOException e) {
            return "";
        }
    }

    /** {@code binary} on PATH, or {@link ErrorCode#OPERATION_FAILED} naming it; an absolute path is taken as is. */
    static Path findOnPath(String binary) {
        Path given = Path.of(binary);
        if (given.isAbsolute()) {
            if (Files.isExecutable(given)) {
                return given;
            }
            throw new SiphonException(ErrorCode.OPERATION_FAILED, binary + " not found (is QEMU installed?)");
        }
        String path = Optional.ofNullable(System.getenv("PATH")).orElse("/usr/bin:/bin");
        for (String dir : path.split(File.pathSeparator)) {
            Path candidate = Path.of(dir.isEmpty() ? "." : dir, binary);
            if (Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        throw new SiphonException(ErrorCode.OPERATION_FAILED, binary + " not found on PATH (is QEMU installed?)");
    }

    QmpClient qmp() {
        return qmp;
    }

    long pid() {
        return handle.pid();
    }

    /** Completes with a reason when the process exits or its monitor connection ends. */
    CompletableFuture<String> ended() {
        return ended;
    }

    /** Whether {@link #stop} was called: an end that follows is expected. */
    boolean isStopping() {
        return stopping;
    }

    /** Marks an end about to come as expected: a guest asked to power off. */
    void expectEnd() {
        stopping = true;
    }

    /** QMP {@code quit}; then SIGTERM, then SIGKILL, each after {@code grace} without an exit. */
    void stop(Duration grace) {
        stopping = true;
        try {
            qmp.execute(new QmpCommand.Quit(), grace);
        } catch (SiphonException e) {
            LOG.debug("QEMU {}: quit: {}", handle.pid(), e.getMessage());
        }
        if (!awaitExit(handle, grace)) {
            LOG.warn("QEMU {} ignored quit for {} ms; sending SIGTERM", handle.pid(), grace.toMillis());
            handle.destroy();
            if (!awaitExit(handle, grace)) {
                LOG.warn("QEMU {} ignored SIGTERM; sending SIGKILL", handle.pid());
                handle.destroyForcibly();
                awaitExit(handle, grace);
            }
        }
        qmp.close();
    }

    /** Kills the process at once (SIGKILL). */
    void kill() {
        stopping = true;
        handle.destroyForcibly();
        awaitExit(handle, Duration.ofSeconds(5));
        qmp.close();
    }

    private static boolean awaitExit(ProcessHandle handle, Duration timeout) {
        try {
            handle.onExit().get(timeout.toNanos(), TimeUnit.NANOSECONDS);
            return true;
        } catch (TimeoutException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return !handle.isAlive();
        } catch (java.util.concurrent.ExecutionException e) {
            return !handle.isAlive();
        }
    }

    private String exitReason() {
        return "QEMU process " + handle.pid() + " exited" + lastWords(logFile);
    }

    /** ": " and the last line QEMU wrote to its log, or "" when it wrote nothing. */
    static String lastWords(Path logFile) {
        try {
            List<String> lines = Files.readAllLines(logFile, StandardCharsets.UTF_8).stream()
                    .filter(l -> !l.isBlank())
                    .toList();
            return lines.isEmpty() ? "" : ": " + lines.getLast().trim();
        } catch (IOException e) {
            return "";
        }
    }

    @Override
    public void close() {
        qmp.close();
    }
}
