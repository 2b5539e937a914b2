package io.siphon.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.api.BlockJobEvent;
import io.siphon.api.BlockJobStatus;
import io.siphon.api.DomainState;
import io.siphon.testing.QemuTools;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A state directory laid out as Siphon 0.1.0 wrote it: its domain loads and its recorded pull resumes. */
class RecordedPullResumeTest {
    private static final int MIB = 1 << 20;

    @TempDir
    Path dir;

    @Test
    void aPullRecordedBySiphon010ResumesOntoItsBaseWhenItsDomainStarts() throws Exception {
        // base.raw <- mid.qcow2 (3 MiB of data) <- top.qcow2; the recorded pull stops at base.raw
        Path base = dir.resolve("base.raw");
        Files.write(base, new byte[8 * MIB]);
        QemuTools.write(base, "raw", 0x11, 0, 8 * MIB);
        Path mid = dir.resolve("mid.qcow2");
        QemuTools.createOverlay(mid, "base.raw", "raw");
        QemuTools.write(mid, "qcow2", 0x22, MIB, 3 * MIB);
        Path top = dir.resolve("top.qcow2");
        QemuTools.createOverlay(top, "mid.qcow2", "qcow2");
        QemuTools.flatten(top, dir.resolve("expected.raw"));

        Path state = dir.resolve("state");
        Files.createDirectories(state.resolve("domains"));
        Files.createDirectories(state.resolve("jobs"));
        Files.writeString(
                state.resolve("domains/db.xml"),
                "<domain type='kvm'>\n  <name>db</name>\n  <uuid>4dea22b3-1d52-d8f3-2516-782e98ab3fa1</uuid>\n"
                        + "  <devices>\n    <disk type='file' device='disk'>\n"
                        + "      <driver name='qemu' type='qcow2'/>\n      <source file='" + top + "'/>\n"
                        + "      <target dev='vda' bus='virtio'/>\n    </disk>\n  </devices>\n</domain>\n");
        String record = Files.readString(Path.of(getClass()
                        .getResource("/state-0.1.0/jobs/web-01.vda.job")
                        .toURI()))
                .replace("/var/lib/siphon/base.qcow2", base.toString());
        Files.writeString(state.resolve("jobs/db.vda.job"), record);

        DomainManager manager = DomainManager.open(state);
        try {
            assertEquals(DomainState.SHUTOFF, manager.info("db").state());
            BlockingQueue<BlockJobEvent> events = new LinkedBlockingQueue<>();
            manager.subscribe(event -> {
                if (event instanceof BlockJobEvent job) {
                    events.add(job);
                }
            });
            manager.start("db");
            assertEquals(MIB, manager.blockJobInfo("db", "vda").orElseThrow().bandwidthBytesPerSecond());
            manager.blockJobSetSpeed("db", "vda", 0);
            BlockJobEvent ended = events.poll(120, TimeUnit.SECONDS);
            assertEquals(
                    new BlockJobEvent("db", "vda", ended.type(), BlockJobStatus.COMPLETED, Optional.empty()), ended);
            assertFalse(Files.exists(state.resolve("jobs/db.vda.job")), "the record goes with the job");
            manager.shutdown("db");
        } finally {
            manager.close();
        }
        assertEquals("base.raw", QemuTools.backingName(top), "keep-relative: the base by its relative name");
        QemuTools.assertSameContent(top, dir.resolve("expected.raw"));
        QemuTools.ok("qemu-img", "check", top.toString());
        assertTrue(Files.exists(state.resolve("lock")));
    }
}
