package io.siphon.cli.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.siphon.cli.Cli;
import io.siphon.format.Formats;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The image commands on QED images, beside qemu-img; skipped until the QED format is in the build. */
@Tag("interop")
class QedImageCommandsTest {
    @TempDir
    Path dir;

    @BeforeEach
    void needsQed() {
        assumeTrue(Formats.all().stream().anyMatch(f -> f.name().equals("qed")), "no qed format in this build");
    }

    @Test
    void createInfoAndMapMatchQemuImg() throws Exception {
        Cli.Result base = Cli.qemuImg(
                dir, "create", "-f", "qcow2", dir.resolve("base.qcow2").toString(), "8M");
        assertEquals(0, base.status(), base.toString());
        Cli.qemuIo(dir, "qcow2", "base.qcow2", "write -P 0x41 0 2M");

        String ours = dir.resolve("ours.qed").toString();
        String theirs = dir.resolve("theirs.qed").toString();
        Cli.Result siphon = Cli.siphon("image", "create", "-f", "qed", "-b", "base.qcow2", "-F", "qcow2", ours);
        Cli.Result qemu = Cli.qemuImg(dir, "create", "-f", "qed", "-b", "base.qcow2", "-F", "qcow2", theirs);
        assertEquals(0, siphon.status(), siphon.toString());
        assertEquals(qemu.out().replace("theirs.qed", "ours.qed"), siphon.out());
        Cli.qemuIo(dir, "qed", "ours.qed", "write -P 0x42 1M 64k", "write -z 3M 64k");

        for (String[] args : new String[][] {
            {"info", ours}, {"info", "--output=json", "--backing-chain", ours}, {"map", "--output=json", ours}
        }) {
            String[] siphonArgs = new String[args.length + 1];
            siphonArgs[0] = "image";
            System.arraycopy(args, 0, siphonArgs, 1, args.length);
            assertEquals(Cli.qemuImg(dir, args).out(), Cli.siphon(siphonArgs).out(), String.join(" ", args));
        }
        assertEquals(0, Cli.siphon("image", "check", ours).status());
    }
}
