package io.siphon.api.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.api.BlockStats;
import io.siphon.api.Connection;
import io.siphon.api.Domain;
import io.siphon.api.DomainState;
import io.siphon.api.ErrorCode;
import io.siphon.api.LifecycleEvent;
import io.siphon.api.ListenerHandle;
import io.siphon.api.SiphonException;
import io.siphon.testing.QemuTools;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Start, shutdown, destroy and a VM's own end on a driver, with a guest that idles until its power
 * button is pressed; and starts that must fail leave nothing behind. A driver's test extends this
 * and says how to connect.
 */
@Tag("interop")
public abstract class MachineLifecycleContract {
    /** The system property both drivers read for the shutdown timeout (io.siphon.qemu.Machine's). */
    private static final String SHUTDOWN_SECONDS = "siphon.vm.shutdown-seconds";

    private static final Duration BOOT = Duration.ofSeconds(120);
    /** The guest's init runs acpid; killing it makes a guest that ignores the power button. */
    private static final String SCRIPT = """
            if [ "$(dd if=$1 bs=4 count=1 2>/dev/null)" = "deaf" ]; then killall acpid; fi
            echo "guest: idle"
            while :; do sleep 1; done
            """;

    @TempDir
    static Path shared;

    private static TestGuest guest;

    @TempDir
    Path dir;

    private Connection connection;
    private Path disk;
    private GuestConsole console;
    private final BlockingQueue<LifecycleEvent> events = new LinkedBlockingQueue<>();
    private ListenerHandle listener;

    @BeforeAll
    static void buildGuest() throws Exception {
        guest = TestGuest.build(shared.resolve("guest"), SCRIPT);
    }

    @AfterAll
    static void clearShutdownTimeout() {
        System.clearProperty(SHUTDOWN_SECONDS);
    }

    /** A read-write connection to the driver under test, managing {@code stateDir}. */
    protected abstract Connection connect(Path stateDir);

    @BeforeEach
    void connectToTheDriver() throws IOException {
        disk = Files.write(dir.resolve("disk.raw"), new byte[8 << 20]);
        console = new GuestConsole(dir.resolve("console.log"));
        connection = connect(dir.resolve("state"));
        listener = connection.addLifecycleListener(events::add);
    }

    @AfterEach
    void destroyWhatRuns() throws Exception {
        for (var info : connection.list()) {
            if (info.state() == DomainState.RUNNING) {
                connection.lookup(info.name()).destroy();
            }
        }
        listener.close();
        connection.close();
    }

    private String xml(String name, String kernel, String initrd, String emulator) {
        return "<domain type='kvm'><name>" + name + "</name><memory unit='MiB'>128</memory>"
                + "<os><type>hvm</type><kernel>" + kernel + "</kernel><initrd>" + initrd + "</initrd>"
                + "<cmdline>" + TestGuest.CMDLINE + "</cmdline></os><devices><emulator>" + emulator + "</emulator>"
                + "<disk type='file'><driver type='raw'/><source file='" + disk + "'/><target dev='vda' bus='virtio'/>"
                + "</disk><serial type='file'><source path='" + console.file() + "'/></serial></devices></domain>";
    }

    private Domain bootIdle(String name) throws Exception {
        Domain domain = connection.define(
                xml(name, guest.kernel().toString(), guest.initrd().toString(), "qemu-system-x86_64"));
        domain.start();
        assertEquals(LifecycleEvent.Kind.DEFINED, next().kind());
        assertEquals(LifecycleEvent.Kind.STARTED, next().kind());
        console.await(line -> line.equals("guest: idle"), "guest: idle", BOOT);
        // the guest read its disk (the kernel's partition scan, the script's dd): both drivers count it
        BlockStats stats = domain.blockStats("vda");
        assertTrue(stats.readRequests() > 0 && stats.readBytes() > 0, stats::toString);
        assertTrue(domain.blockStats().readRequests() >= stats.readRequests(), "one disk: the totals hold its reads");
        return domain;
    }

    private LifecycleEvent next() throws InterruptedException {
        LifecycleEvent event = events.poll(BOOT.toSeconds(), TimeUnit.SECONDS);
        if (event == null) {
            throw new AssertionError("no lifecycle event within " + BOOT.toSeconds() + " s");
        }
        return event;
    }

    private ProcessHandle machineProcess(String name) {
        Path pidFile = dir.resolve("state/run/" + name + ".pid");
        long pid;
        try {
            pid = Long.parseLong(Files.readString(pidFile).trim());
        } catch (IOException e) {
            throw new AssertionError("no pid file " + pidFile, e);
        }
        return ProcessHandle.of(pid).orElseThrow(() -> new AssertionError("no process " + pid));
    }

    /** Nothing of a start stays: shut off, no export, no process, and the image is not locked. */
    private void assertNothingRuns(Domain domain, String name) throws Exception {
        assertEquals(DomainState.SHUTOFF, domain.info().state());
        assertEquals(Optional.empty(), domain.disks().getFirst().nbdUri());
        assertFalse(Files.exists(dir.resolve("state/run/" + name + ".qmp")), "the monitor socket is gone");
        // qemu-io takes the write lock: it would fail while Siphon held the image
        QemuTools.ok("qemu-io", "-f", "raw", "-c", "write -P 1 0 512", disk.toString());
    }

    /** Boots {@code name}, stops it with {@code stop}, sees {@code kind}, and finds nothing left; returns the console. */
    private String bootAndStop(String name, Consumer<Domain> stop, LifecycleEvent.Kind kind) throws Exception {
        Domain domain = bootIdle(name);
        ProcessHandle qemu = machineProcess(name);
        stop.accept(domain);
        assertEquals(new LifecycleEvent(name, kind), next());
        assertFalse(qemu.isAlive());
        assertNothingRuns(domain, name);
        return String.join("\n", console.lines());
    }

    @Test
    void shutdownPressesThePowerButtonAndTheGuestPowersOff() throws Exception {
        String output = bootAndStop("polite", Domain::shutdown, LifecycleEvent.Kind.SHUTDOWN);
        assertTrue(output.contains("guest: power button"), output);
    }

    @Test
    void aGuestThatIgnoresThePowerButtonIsKilledAfterTheTimeout() throws Exception {
        Files.write(disk, "deaf".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        Files.write(disk, new byte[(8 << 20) - 4], java.nio.file.StandardOpenOption.APPEND);
        System.setProperty(SHUTDOWN_SECONDS, "2");
        String output = bootAndStop("deaf", Domain::shutdown, LifecycleEvent.Kind.SHUTDOWN);
        assertFalse(output.contains("guest: power button"), output);
    }

    @Test
    void destroyKillsTheMachine() throws Exception {
        bootAndStop("doomed", Domain::destroy, LifecycleEvent.Kind.DESTROYED);
    }

    @Test
    void aMachineKilledFromOutsideShutsTheDomainOffAsCrashed() throws Exception {
        bootAndStop("victim", d -> machineProcess("victim").destroyForcibly(), LifecycleEvent.Kind.CRASHED);
    }

    private void refusedToStart(String name, String xml, String expected) throws Exception {
        Domain domain = connection.define(xml);
        SiphonException e = assertThrows(SiphonException.class, domain::start);
        assertEquals(ErrorCode.OPERATION_FAILED, e.code());
        assertTrue(e.getMessage().contains(expected), () -> "'" + e.getMessage() + "' lacks '" + expected + "'");
        assertNothingRuns(domain, name);
    }

    @Test
    void aStartThatCannotBootNamesWhatIsMissingAndLeavesNothing() throws Exception {
        String kernel = guest.kernel().toString();
        String initrd = guest.initrd().toString();
        refusedToStart("nokernel", xml("nokernel", "/no/vmlinuz", initrd, "qemu-system-x86_64"), "kernel /no/vmlinuz");
        refusedToStart("noinitrd", xml("noinitrd", kernel, "/no/initrd", "qemu-system-x86_64"), "initrd /no/initrd");
        refusedToStart("noemu", xml("noemu", kernel, initrd, "/no/qemu-system-x86_64"), "/no/qemu-system-x86_64");
        // an emulator that exits at once fails after the disks were served: they are withdrawn again
        refusedToStart("dies", xml("dies", kernel, initrd, "/bin/false"), "exited with status 1");
    }
}
