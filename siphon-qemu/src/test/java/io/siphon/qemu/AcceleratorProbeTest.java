package io.siphon.qemu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.api.ErrorCode;
import io.siphon.api.SiphonException;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("interop")
class AcceleratorProbeTest {
    private static final Path EMULATOR = QemuProcess.findOnPath("qemu-system-x86_64");

    @Test
    void tcgWhenAskedForOrWhenTheDomainIsSoftwareOnly() {
        assertEquals(Accelerator.TCG, AcceleratorProbe.choose(EMULATOR, false, "tcg"));
        assertEquals(Accelerator.TCG, AcceleratorProbe.choose(EMULATOR, true, "auto"));
    }

    @Test
    void anUnknownModeIsNamed() {
        SiphonException e = assertThrows(SiphonException.class, () -> AcceleratorProbe.choose(EMULATOR, false, "warp"));
        assertEquals(ErrorCode.OPERATION_FAILED, e.code());
        assertTrue(e.getMessage().contains("SIPHON_ACCEL='warp'"), e.getMessage());
    }

    /** Whichever way this machine's KVM is, auto follows the probe and a forced KVM says why it cannot. */
    @Test
    void autoFollowsTheProbeAndAForcedUnusableKvmFailsTheStart() {
        Optional<String> problem = AcceleratorProbe.kvmProblem(EMULATOR);
        if (problem.isEmpty()) {
            assertEquals(Accelerator.KVM, AcceleratorProbe.choose(EMULATOR, false, "auto"));
            assertEquals(Accelerator.KVM, AcceleratorProbe.choose(EMULATOR, false, "kvm"));
        } else {
            assertEquals(Accelerator.TCG, AcceleratorProbe.choose(EMULATOR, false, "auto"));
            SiphonException e =
                    assertThrows(SiphonException.class, () -> AcceleratorProbe.choose(EMULATOR, false, "kvm"));
            assertEquals(ErrorCode.OPERATION_FAILED, e.code());
            assertTrue(e.getMessage().contains("accelerator kvm"), e.getMessage());
            assertTrue(e.getMessage().contains(problem.get()), e.getMessage());
        }
    }
}
