package io.siphon.api.contract;

import io.siphon.testing.QemuTools;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A test guest built by {@code scripts/make-guest} (the Debian cloud kernel, busybox and an init
 * that runs a script against {@code /dev/vda}, prints to ttyS0 and powers off).
 *
 * @param kernel the kernel image
 * @param initrd the initramfs with the script
 */
public record TestGuest(Path kernel, Path initrd) {
    /** The kernel command line: console on the first serial port, and no reboot loop on a panic. */
    public static final String CMDLINE = "console=ttyS0 panic=-1 quiet";

    /** Builds the guest that runs {@code script} into {@code dir}. */
    public static TestGuest build(Path dir, String script) throws IOException, InterruptedException {
        Files.createDirectories(dir);
        Path scriptFile = Files.writeString(dir.resolve("guest.sh"), script);
        QemuTools.ok(makeGuest().toString(), dir.toString(), scriptFile.toString());
        return new TestGuest(dir.resolve("vmlinuz"), dir.resolve("initrd.img"));
    }

    /** {@code scripts/make-guest} of the source tree the tests run in. */
    private static Path makeGuest() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path script = dir.resolve("scripts/make-guest");
            if (Files.isExecutable(script)) {
                return script;
            }
        }
        throw new AssertionError("no scripts/make-guest above " + Path.of("").toAbsolutePath());
    }
}
