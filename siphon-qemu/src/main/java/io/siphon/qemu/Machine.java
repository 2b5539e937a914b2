package io.siphon.qemu;

import io.siphon.api.SiphonException;
import io.siphon.qemu.qmp.QmpClient;
import io.siphon.qemu.qmp.QmpCommand;
import io.siphon.qemu.qmp.QmpEvents;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code qemu-system-x86_64} process of a started machine domain, with its monitor; its files
 * are {@code NAME.qmp}, {@code NAME.pid} and {@code NAME.log} in the run directory, so that a
 * restarted daemon finds it again ({@link #reattach}). It outlives the daemon, as a VM outlives
 * libvirtd. Thread-safe.
 */
public final class Machine implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Machine.class);
    /** How long the exit waits for the SHUTDOWN event QEMU sent just before it. */
    private static final Duration LAST_EVENT_WAIT = Duration.ofSeconds(1);

    private final QemuProcess process;
    private final RunFiles files;
    private final CompletableFuture<Boolean> guestShutdown = new CompletableFuture<>();
    private final CompletableFuture<Exit> ended;

    /**
     * How the process ended.
     *
     * @param guestShutdown the guest powered itself off (QMP {@code SHUTDOWN} with {@code guest:
     *     true}), rather than a crash or kill
     * @param reason what happened, with QEMU's last words
     */
    public record Exit(boolean guestShutdown, String reason) {}

    private Machine(QemuProcess process, RunFiles files) {
        this.process = process;
        this.files = files;
        process.qmp().addEventListener(event -> {
            if (event.name().equals(QmpEvents.SHUTDOWN)) {
                guestShutdown.complete(QemuMachines.isGuestShutdown(event));
            }
        });
        this.ended = process.ended().thenApplyAsync(reason -> new Exit(awaitShutdownEvent(), reason));
    }

    /** The system property that sets {@link #shutdownTimeout}, in seconds. */
    public static final String SHUTDOWN_SECONDS = "siphon.vm.shutdown-seconds";

    /** How long a {@code shutdown} waits for a guest to power off before killing it: 30 s unless set. */
    public static Duration shutdownTimeout() {
        return Duration.ofSeconds(Long.getLong(SHUTDOWN_SECONDS, 30));
    }

    /** The monitor socket of {@code domain}'s machine in {@code run}. */
    public static Path qmpSocket(Path run, String domain) {
        return RunFiles.of(run, domain).qmpSocket();
    }

    /**
     * Launches {@code command}'s emulator with {@code arguments} (built by {@link
     * MachineCommand#arguments} with {@link #qmpSocket}) and connects to its monitor; a process that
     * exits or opens no monitor is an error with QEMU's last words.
     */
    public static Machine launch(MachineCommand command, List<String> arguments, Path run, String domain) {
        RunFiles files = RunFiles.of(run, domain);
        files.checkSocketPaths();
        Machine machine = new Machine(QemuProcess.launch(command.emulator().toString(), arguments, files), files);
        LOG.info("domain {}: {} pid {} on {}", domain, command.emulator(), machine.pid(), command.accelerator());
        return machine;
    }

    /** The machine {@code domain} left running in {@code run}, if it still runs and answers. */
    public static Optional<Machine> reattach(Path run, String domain) {
        RunFiles files = RunFiles.of(run, domain);
        return QemuProcess.reattach(files).map(process -> new Machine(process, files));
    }

    public long pid() {
        return process.pid();
    }

    /** The monitor. */
    public QmpClient qmp() {
        return process.qmp();
    }

    /** The QEMU log (its own messages, not the guest's console). */
    public Path logFile() {
        return files.logFile();
    }

    /** Completes when the process has ended, however it ended. */
    public CompletableFuture<Exit> ended() {
        return ended;
    }

    /**
     * Asks the guest to power off (ACPI {@code system_powerdown}) and waits up to {@code timeout};
     * a guest that does not, or a monitor that does not answer, is killed. Returns whether the guest
     * powered off by itself.
     */
    public boolean powerdown(Duration timeout) {
        return powerdown(process, timeout);
    }

    /** As {@link #powerdown(Duration)}, for any machine's process. */
    static boolean powerdown(QemuProcess process, Duration timeout) {
        process.expectEnd();
        try {
            process.qmp().execute(new QmpCommand.SystemPowerdown(), timeout);
            process.ended().get(timeout.toNanos(), TimeUnit.NANOSECONDS);
            return true;
        } catch (SiphonException | TimeoutException | ExecutionException e) {
            LOG.info("machine {} did not power off within {} ms; killing it", process.pid(), timeout.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        process.kill();
        return false;
    }

    /** Kills the process at once (SIGKILL) and waits for its end. */
    public void kill() {
        process.kill();
    }

    /** Removes the monitor socket and pid file of an ended process (its log stays). */
    public void deleteRunFiles() throws IOException {
        files.deleteStale(List.of());
    }

    private boolean awaitShutdownEvent() {
        try {
            return guestShutdown.get(LAST_EVENT_WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException | ExecutionException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Closes the monitor connection; the process keeps running. */
    @Override
    public void close() {
        process.close();
    }
}
