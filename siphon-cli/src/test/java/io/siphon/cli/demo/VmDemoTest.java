package io.siphon.cli.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.cli.Cli;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The VM demo: a real guest reads its disk while it is pulled, and the disk stands alone afterwards. */
@Tag("interop")
class VmDemoTest {
    @Test
    void aGuestReadsTheTemplatesDataWhileItsCloneIsPulled(@TempDir Path dir) throws Exception {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        new VmDemo(new PrintWriter(out, true), new PrintWriter(err, true), dir).run();
        String shown = out.toString();
        System.out.println(shown);
        assertTrue(shown.contains("(first console line "), shown);
        assertTrue(shown.matches("(?s).*pull +\\d+% +\\d+/64 MiB +\\| guest: read 1: 64 MiB in .*"), shown);
        assertTrue(shown.contains("event 'lifecycle' for domain 'demo-vm': shutdown"), shown);
        assertTrue(shown.contains("had the template's checksum"), shown);
        assertFalse(Files.exists(dir.resolve("template.raw")));
        Cli.Result info = Cli.qemuImg(dir, "info", dir.resolve("disk.qcow2").toString());
        assertFalse(info.out().contains("backing file"), info.out());
        assertEquals(
                0,
                Cli.qemuImg(dir, "check", dir.resolve("disk.qcow2").toString()).status());
    }
}
