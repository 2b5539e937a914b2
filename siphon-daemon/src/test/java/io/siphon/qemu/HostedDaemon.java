package io.siphon.qemu;

import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** {@code siphon daemon --driver qemu} in a child JVM on this test's class path, as a user runs it. */
final class HostedDaemon implements AutoCloseable {
    private final Path stateDir;
    private final Process process;

    private HostedDaemon(Path stateDir, Process process) {
        this.stateDir = stateDir;
        this.process = process;
    }

    /** Starts the daemon on {@code stateDir} and waits (up to 60 s) until its socket answers. */
    static HostedDaemon start(Path stateDir) throws IOException, InterruptedException {
        Files.createDirectories(stateDir);
        Process process = new ProcessBuilder(List.of(
                        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        "-Xmx256m",
                        "-cp",
                        System.getProperty("java.class.path"),
                        "io.siphon.daemon.DaemonMain",
                        "--state-dir",
                        stateDir.toString(),
                        "--driver",
                        "qemu"))
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(
                        stateDir.resolve("daemon.log").toFile()))
                .start();
        HostedDaemon daemon = new HostedDaemon(stateDir, process);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!daemon.answers()) {
            if (!process.isAlive() || System.nanoTime() > deadline) {
                process.destroyForcibly();
                throw new IOException("daemon did not listen: " + daemon.log());
            }
            Thread.sleep(50); // nothing to wait on but the socket
        }
        return daemon;
    }

    private boolean answers() {
        try (SocketChannel probe = SocketChannel.open(UnixDomainSocketAddress.of(socket()))) {
            return probe.isConnected();
        } catch (IOException e) {
            return false;
        }
    }

    Path socket() {
        return stateDir.resolve("siphon.sock");
    }

    Path readOnlySocket() {
        return stateDir.resolve("siphon-ro.sock");
    }

    String uri() {
        return "siphon+unix://" + socket().toUri().getPath();
    }

    String log() {
        try {
            return Files.readString(stateDir.resolve("daemon.log"), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return e.toString();
        }
    }

    /** SIGKILL: the daemon dies at once, as in a crash. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    /** SIGTERM, and waits for the clean exit. */
    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("the daemon ignored SIGTERM for 30 s: " + log());
        }
    }
}
