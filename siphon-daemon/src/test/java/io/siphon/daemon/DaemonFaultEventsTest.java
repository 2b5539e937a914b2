package io.siphon.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.testing.DamagedImages;
import io.siphon.testing.QemuTools;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A pull on a real daemon meets a template whose cluster cannot be read (its L2 entry points past
 * the end of its file, as a failing disk or a corrupt template leaves it): the job's status and its
 * failure reach clients through the control protocol, a BLOCK_JOB event with status failed and the
 * error that names the cluster on the read-write and the read-only socket alike; the top keeps its
 * template, {@code qemu-img check} finds it clean, and what the guest wrote over NBD and flushed
 * before the failure is there.
 */
@Tag("interop")
class DaemonFaultEventsTest {
    private static final long MIB = 1 << 20;

    @TempDir
    Path dir;

    @Test
    void aFailingTemplateReachesClientsAsAFailedBlockJobEvent() throws Exception {
        Path base = dir.resolve("base.qcow2");
        QemuTools.create(base, "qcow2", 16 * MIB, null, "qcow2");
        QemuTools.write(base, "qcow2", 0x33, 0, 16 * MIB);
        DamagedImages.l2EntryPastEnd(base, 12 * MIB);
        Path top = dir.resolve("top.qcow2");
        QemuTools.createOverlay(top, "base.qcow2", "qcow2");
        String xml = "<domain><name>faulty</name><devices><disk type='file'><driver type='qcow2'/><source file='" + top
                + "'/><target dev='vda'/></disk></devices></domain>";
        try (DaemonProcess daemon = DaemonProcess.start(dir.resolve("state"));
                RawClient rw = new RawClient(daemon.socket());
                RawClient ro = new RawClient(daemon.readOnlySocket())) {
            rw.next().orElseThrow();
            ro.next().orElseThrow();
            rw.send("{\"execute\":\"domain-define\",\"arguments\":{\"xml\":\"" + xml + "\"},\"id\":1}\n");
            assertEquals("none", rw.errorClass());
            rw.send("{\"execute\":\"domain-start\",\"arguments\":{\"domain\":\"faulty\"},\"id\":2}\n");
            assertEquals("none", rw.errorClass());
            rw.send("{\"execute\":\"domain-disks\",\"arguments\":{\"domain\":\"faulty\"},\"id\":3}\n");
            String uri = (String) ((Map<?, ?>) ((List<?>) rw.reply().get("return")).getFirst()).get("nbd-uri");
            // flushed by qemu-io before it exits: acknowledged
            QemuTools.ok("qemu-io", "-f", "raw", "-c", "write -P 0xab " + 2 * MIB + " 64k", "-c", "flush", uri);

            rw.send("{\"execute\":\"block-pull\",\"arguments\":{\"domain\":\"faulty\",\"disk\":\"vda\","
                    + "\"bandwidth-bytes\":8388608},\"id\":4}\n");
            assertEquals("none", rw.errorClass());
            ro.send(
                    "{\"execute\":\"block-job-info\",\"arguments\":{\"domain\":\"faulty\",\"disk\":\"vda\"},\"id\":5}\n");
            List<Map<?, ?>> roEvents = new java.util.ArrayList<>();
            Map<?, ?> info = next(ro, 5L, roEvents);
            assertTrue(info.get("return") instanceof Map<?, ?>, info::toString);

            for (RawClient client : List.of(rw, ro)) {
                Map<?, ?> data = (Map<?, ?>) next(client, null, client == ro ? roEvents : new java.util.ArrayList<>())
                        .get("data");
                assertEquals("faulty", data.get("domain"));
                assertEquals("vda", data.get("disk"));
                assertEquals("pull", data.get("type"));
                assertEquals("failed", data.get("status"), data::toString);
                String error = String.valueOf(data.get("error"));
                assertTrue(error.contains("L2 entry"), error);
            }
            ro.send(
                    "{\"execute\":\"block-job-info\",\"arguments\":{\"domain\":\"faulty\",\"disk\":\"vda\"},\"id\":6}\n");
            assertEquals(Map.of(), ro.reply().get("return"), "the failed job is gone");
            rw.send("{\"execute\":\"domain-shutdown\",\"arguments\":{\"domain\":\"faulty\"},\"id\":7}\n");
            assertEquals("none", rw.errorClass());
            String log = daemon.log();
            assertFalse(log.contains("\tat "), "no stack trace in the daemon's log");
        }
        assertEquals("base.qcow2", QemuTools.backingName(top), "the failed pull kept the template");
        QemuTools.assertCheckClean(top);
        QemuTools.ok("qemu-io", "-f", "qcow2", "-c", "read -P 0xab " + 2 * MIB + " 64k", top.toString());
        QemuTools.ok("qemu-io", "-f", "qcow2", "-c", "read -P 0x33 " + 4 * MIB + " 64k", top.toString());
    }

    /**
     * The next message of {@code client} that is the reply to {@code id} or (with {@code id} null)
     * a BLOCK_JOB event, waiting up to 60 s; a BLOCK_JOB event met on the way is kept in {@code
     * seen}, so that waiting for a reply loses no event.
     */
    private static Map<?, ?> next(RawClient client, Object id, List<Map<?, ?>> seen) throws Exception {
        if (id == null && !seen.isEmpty()) {
            return seen.removeFirst();
        }
        return CompletableFuture.supplyAsync(() -> {
                    try {
                        while (true) {
                            Map<?, ?> message = client.next().orElseThrow();
                            if ("BLOCK_JOB".equals(message.get("event"))) {
                                if (id == null) {
                                    return message;
                                }
                                seen.add(message);
                            } else if (id != null && id.equals(message.get("id"))) {
                                return message;
                            }
                        }
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                })
                .get(60, TimeUnit.SECONDS);
    }
}
