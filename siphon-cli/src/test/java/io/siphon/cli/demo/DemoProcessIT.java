package io.siphon.cli.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.cli.Cli;
import io.siphon.cli.SiphonProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code siphon demo} end to end, as a process with nothing installed or started first. */
class DemoProcessIT {
    private static final Pattern PROGRESS_LINE = Pattern.compile("Block Pull: \\[[ 0-9]{2,3}\\.[0-9]{2} %\\]");

    @TempDir
    Path dir;

    @Test
    void theDemoPullsAThinCloneInUseOverNbdAndLeavesItStandingAlone() throws Exception {
        Path work = dir.resolve("demo");
        Cli.Result demo = SiphonProcess.run(dir, Map.of(), "demo", "--dir", work.toString());
        assertEquals(0, demo.status(), demo.toString());
        String out = demo.out();
        // before: a thin clone on the template
        int pullAt = out.indexOf(" blockpull demo vda ");
        assertTrue(pullAt > 0, out);
        String before = out.substring(0, pullAt);
        String after = out.substring(pullAt);
        assertTrue(before.contains("backing file: template.qcow2"), before);
        assertTrue(before.contains(work.resolve("template.qcow2").toString()), before);
        // the domain, its NBD export, the guest-like I/O over Siphon's client
        assertTrue(before.contains("Domain 'demo' defined from "), before);
        assertTrue(before.contains("Domain 'demo' started"), before);
        assertTrue(before.contains(" nbd+unix://"), before);
        assertTrue(before.contains("read 0+21: \"Siphon demo template\""), before);
        assertTrue(before.contains("read it back: identical"), before);
        // the pull, its progress on stderr (a pipe: virsh's lines), its event
        assertTrue(after.contains("Pull complete\n"), after);
        assertTrue(after.contains("event 'block-job' for domain 'demo': Block Pull for vda completed\n"), after);
        List<String> progress =
                demo.err().lines().filter(l -> l.startsWith("Block Pull")).toList();
        assertFalse(progress.isEmpty(), demo.err());
        progress.forEach(l -> assertTrue(PROGRESS_LINE.matcher(l).matches(), l));
        assertEquals("Block Pull: [100.00 %]", progress.getLast());
        // afterwards: same content, no backing file, every cluster in the disk itself
        assertTrue(after.contains("identical."), after);
        String finalSteps = after.substring(after.lastIndexOf("info --backing-chain"));
        String infoAndMap = finalSteps.substring(0, finalSteps.indexOf("$ siphon image compare"));
        assertFalse(infoAndMap.contains("backing file"), infoAndMap);
        assertFalse(infoAndMap.contains("template.qcow2"), infoAndMap);
        assertTrue(finalSteps.contains("Content mismatch at offset 2097152!"), finalSteps);
        assertTrue(finalSteps.contains("No errors were found on the image."), finalSteps);

        // the real QEMU tools agree
        Cli.Result info = Cli.qemuImg(work, "info", "disk.qcow2");
        assertFalse(info.out().contains("backing file"), info.out());
        assertEquals(0, Cli.qemuImg(work, "check", "disk.qcow2").status());
        assertTrue(Files.exists(work.resolve("template.qcow2")));
    }
}
