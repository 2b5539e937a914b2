package io.siphon.qemu;

import io.siphon.api.ErrorCode;
import io.siphon.api.SiphonException;
import java.io.File;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Chooses a machine's accelerator: KVM when {@code /dev/kvm} opens and a trivial guest really runs
 * on it with {@code -cpu host} (a machine may have a {@code /dev/kvm} that aborts QEMU or hangs a
 * guest), else TCG. The environment variable {@value #ENVIRONMENT} forces one: {@code tcg}, or
 * {@code kvm} (then an unusable KVM fails the start); {@code auto} or unset probes. The probe runs
 * once per emulator in this process, within {@link #PROBE_TIMEOUT}. Thread-safe.
 */
public final class AcceleratorProbe {
    private static final Logger LOG = LoggerFactory.getLogger(AcceleratorProbe.class);

    /** The environment variable that forces an accelerator. */
    public static final String ENVIRONMENT = "SIPHON_ACCEL";

    static final Duration PROBE_TIMEOUT = Duration.ofSeconds(10);

    /**
     * A 64 KiB firmware whose reset vector (the last 16 bytes) writes 1 to the isa-debug-exit port
     * 0xf4 and halts: QEMU then exits with status (1 << 1) | 1.
     */
    private static final byte[] RESET_VECTOR = {
        (byte) 0xB0,
        0x01, // mov al, 1
        (byte) 0xE6,
        (byte) 0xF4, // out 0xf4, al
        (byte) 0xF4, // hlt
        (byte) 0xEB,
        (byte) 0xFD // jmp back to hlt
    };

    private static final int GUEST_RAN = 3;
    private static final Map<Path, Optional<String>> KVM_PROBLEMS = new ConcurrentHashMap<>();

    private AcceleratorProbe() {}

    /** As {@link #choose(Path, boolean, String)} with the mode from {@value #ENVIRONMENT}. */
    public static Accelerator choose(Path emulator, boolean softwareOnly) {
        return choose(
                emulator,
                softwareOnly,
                Optional.ofNullable(System.getenv(ENVIRONMENT)).orElse("auto"));
    }

    /**
     * The accelerator for a machine run by {@code emulator}: TCG when {@code softwareOnly} (libvirt's
     * {@code <domain type='qemu'>}) or {@code mode} is tcg; KVM when it works; a forced but unusable
     * KVM, or an unknown mode, is {@link ErrorCode#OPERATION_FAILED} naming it.
     */
    public static Accelerator choose(Path emulator, boolean softwareOnly, String mode) {
        String normalized = mode.strip().toLowerCase(Locale.ROOT);
        switch (normalized) {
            case "tcg":
                return Accelerator.TCG;
            case "kvm", "auto", "":
                break;
            default:
                throw new SiphonException(
                        ErrorCode.OPERATION_FAILED,
                        ENVIRONMENT + "='" + mode + "' is not an accelerator (kvm, tcg or auto)");
        }
        if (softwareOnly) {
            return Accelerator.TCG;
        }
        Optional<String> problem = KVM_PROBLEMS.computeIfAbsent(emulator, AcceleratorProbe::kvmProblem);
        if (problem.isEmpty()) {
            return Accelerator.KVM;
        }
        if (normalized.equals("kvm")) {
            throw new SiphonException(
                    ErrorCode.OPERATION_FAILED,
                    "accelerator kvm (" + ENVIRONMENT + "=kvm) is unusable: " + problem.get());
        }
        return Accelerator.TCG;
    }

    /** Why KVM cannot run a guest of {@code emulator}, or empty when it can. */
    static Optional<String> kvmProblem(Path emulator) {
        Path kvm = Path.of("/dev/kvm");
        try (FileChannel ignored = FileChannel.open(kvm, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            // opened: the kernel offers KVM to this user; whether a guest runs is the next question
        } catch (IOException | UnsupportedOperationException e) {
            return logged(emulator, "cannot open " + kvm + ": " + e.getMessage());
        }
        Path firmware = null;
        Path log = null;
        try {
            firmware = Files.createTempFile("siphon-kvm-probe", ".bin");
            log = Files.createTempFile("siphon-kvm-probe", ".log");
            byte[] image = new byte[64 << 10];
            System.arraycopy(RESET_VECTOR, 0, image, image.length - 16, RESET_VECTOR.length);
            Files.write(firmware, image);
            Process qemu = new ProcessBuilder(List.of(
                            emulator.toString(),
                            "-machine",
                            "pc,accel=kvm",
                            "-cpu",
                            "host",
                            "-m",
                            "16",
                            "-nodefaults",
                            "-no-user-config",
                            "-display",
                            "none",
                            "-bios",
                            firmware.toString(),
                            "-device",
                            "isa-debug-exit,iobase=0xf4,iosize=0x04"))
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectErrorStream(true)
                    .redirectOutput(log.toFile())
                    .start();
            if (!qemu.waitFor(PROBE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                qemu.destroyForcibly().waitFor();
                return logged(emulator, "a trivial guest did not finish within " + PROBE_TIMEOUT.toSeconds() + " s");
            }
            if (qemu.exitValue() != GUEST_RAN) {
                return logged(
                        emulator, "a trivial guest ended with status " + qemu.exitValue() + QemuProcess.lastWords(log));
            }
            LOG.info("KVM runs guests of {}", emulator);
            return Optional.empty();
        } catch (IOException e) {
            return logged(emulator, "cannot run " + emulator + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.of("interrupted while probing KVM");
        } finally {
            deleteQuietly(firmware);
            deleteQuietly(log);
        }
    }

    private static Optional<String> logged(Path emulator, String problem) {
        LOG.info("KVM is unusable for {} ({}); machines run on TCG", emulator, problem);
        return Optional.of(problem);
    }

    private static void deleteQuietly(Path file) {
        if (file != null) {
            try {
                Files.deleteIfExists(file);
            } catch (IOException e) {
                LOG.debug("removing probe file {}: {}", file, e.toString());
            }
        }
    }
}
