package io.siphon.daemon;

import io.siphon.daemon.logging.DaemonLog;
import io.siphon.net.Connect;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** A daemon in a child JVM on this test's class path, as a user would run it. */
final class DaemonProcess implements AutoCloseable {
    private final Path stateDir;
    private final Process process;

    private DaemonProcess(Path stateDir, Process process) {
        this.stateDir = stateDir;
        this.process = process;
    }

    /** Starts {@code DaemonMain --state-dir stateDir} and waits until both its sockets answer. */
    static DaemonProcess start(Path stateDir) throws IOException, InterruptedException {
        return start(stateDir, List.of());
    }

    /** Starts {@code DaemonMain --state-dir stateDir OPTIONS...} and waits until both its sockets answer. */
    static DaemonProcess start(Path stateDir, List<String> options) throws IOException, InterruptedException {
        return start(stateDir, List.of(), options);
    }

    /**
     * Starts {@code java JVM_OPTIONS... DaemonMain --state-dir stateDir OPTIONS...} and waits until
     * both its sockets answer.
     */
    static DaemonProcess start(Path stateDir, List<String> jvmOptions, List<String> options)
            throws IOException, InterruptedException {
        Files.createDirectories(stateDir);
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        List<String> command =
                new java.util.ArrayList<>(List.of(java.toString(), "--enable-native-access=ALL-UNNAMED", "-Xmx256m"));
        command.addAll(jvmOptions);
        command.addAll(List.of(
                "-cp",
                System.getProperty("java.class.path"),
                DaemonMain.class.getName(),
                "--state-dir",
                stateDir.toString()));
        command.addAll(options);
        Process process = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(
                        stateDir.resolve("daemon.log").toFile()))
                .start();
        DaemonProcess daemon = new DaemonProcess(stateDir, process);
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IOException("daemon exited with " + process.exitValue() + ": " + daemon.log());
            }
            if (daemon.answers()) {
                return daemon;
            }
            Thread.sleep(50);
        }
        daemon.kill();
        throw new IOException("daemon did not listen within 60 s: " + daemon.log());
    }

    /** Both sockets answer: the daemon binds the read-only one after the read-write one. */
    private boolean answers() {
        return Connect.answers(socket()) && Connect.answers(readOnlySocket());
    }

    Path socket() {
        return stateDir.resolve("siphon.sock");
    }

    Path readOnlySocket() {
        return stateDir.resolve("siphon-ro.sock");
    }

    /** What the daemon printed (warnings, a failed start) and then its log file, {@code STATE/log/siphon-daemon.log}. */
    String log() throws IOException {
        StringBuilder text = new StringBuilder();
        for (Path log :
                List.of(stateDir.resolve("daemon.log"), stateDir.resolve("log").resolve(DaemonLog.FILE_NAME))) {
            if (Files.exists(log)) {
                text.append(Files.readString(log));
            }
        }
        return text.toString();
    }

    /** Whether the process still runs. */
    boolean alive() {
        return process.isAlive();
    }

    long pid() {
        return process.pid();
    }

    /** Waits up to {@code timeout} for the process to exit by itself: its status, or empty if it still runs. */
    java.util.OptionalInt awaitExit(Duration timeout) throws InterruptedException {
        return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)
                ? java.util.OptionalInt.of(process.exitValue())
                : java.util.OptionalInt.empty();
    }

    /** SIGKILL, as a crash. */
    void kill() {
        process.destroyForcibly();
        process.onExit().join();
    }

    /** SIGTERM, and waits for the clean exit. */
    @Override
    public void close() {
        process.destroy();
        try {
            process.onExit().get(30, TimeUnit.SECONDS);
        } catch (ExecutionException | TimeoutException e) {
            kill();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            kill();
        }
    }
}
