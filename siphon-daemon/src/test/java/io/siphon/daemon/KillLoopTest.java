package io.siphon.daemon;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.api.BlockJobEvent;
import io.siphon.api.BlockJobStatus;
import io.siphon.api.Connection;
import io.siphon.api.Domain;
import io.siphon.api.Siphon;
import io.siphon.nbd.client.NbdClient;
import io.siphon.testing.QemuTools;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGKILLs of the daemon at random instants while a pull runs and a guest writes over NBD, each
 * write flushed before the next: after every kill qemu-img check finds no corruption, and at the
 * end, once the resumed pull has completed, every acknowledged write reads back and every block no
 * write touched holds the template's data. Kills come from {@code siphon.reliability.kills}
 * (default 3; {@code scripts/reliability} runs 50).
 */
class KillLoopTest {
    private static final int MIB = 1 << 20;
    private static final int BLOCK = 4096;
    private static final int SIZE = 16 * MIB;

    @TempDir
    Path dir;

    private record Written(long offset, byte[] data) {}

    @Test
    void killedUnderAPullAndFlushedWritesTheDaemonLosesNothing() throws Exception {
        int kills = Integer.getInteger("siphon.reliability.kills", 3);
        long seed = System.nanoTime();
        System.out.println("kill loop: " + kills + " kills, seed " + seed);
        Random random = new Random(seed);
        Path template = dir.resolve("template.raw");
        byte[] templateBytes = new byte[SIZE];
        random.nextBytes(templateBytes);
        Files.write(template, templateBytes);
        Path top = dir.resolve("vm.qcow2");
        QemuTools.createOverlay(top, "template.raw", "raw");
        Path state = dir.resolve("state");
        List<Written> acknowledged = new ArrayList<>();
        Set<Long> touched = new HashSet<>();
        long leaks = 0;
        for (int k = 0; k < kills; k++) {
            DaemonProcess daemon = DaemonProcess.start(state);
            try (Connection connection = Siphon.connect("siphon+unix://" + daemon.socket())) {
                Domain domain = k == 0 ? connection.define(xml(top)) : connection.lookup("vm");
                domain.start(); // a recorded pull resumes here
                if (k == 0) {
                    domain.blockPull("vda", 2, Set.of()); // 2 MiB/s: several kills before it ends
                }
                String uri = domain.disks().getFirst().nbdUri().orElseThrow();
                AtomicBoolean stop = new AtomicBoolean();
                Thread guest = Thread.ofVirtual().start(() -> {
                    try (NbdClient client = NbdClient.connect(uri)) {
                        while (!stop.get()) {
                            long offset;
                            synchronized (touched) {
                                do {
                                    offset = (long) random.nextInt(SIZE / BLOCK) * BLOCK;
                                } while (!touched.add(offset));
                            }
                            byte[] data = new byte[BLOCK];
                            random.nextBytes(data);
                            client.write(offset, ByteBuffer.wrap(data), false);
                            client.flush();
                            synchronized (acknowledged) {
                                acknowledged.add(new Written(offset, data));
                            }
                        }
                    } catch (Exception killed) {
                        // the daemon died under the write: it was never acknowledged
                    }
                });
                Thread.sleep(200 + random.nextInt(1300)); // the random instant of the kill
                daemon.kill();
                stop.set(true);
                guest.join(TimeUnit.SECONDS.toMillis(30));
            } catch (Exception connectionLostAtTheKill) {
                daemon.kill();
            }
            QemuTools.Result check = QemuTools.run("qemu-img", "check", "--output=json", top.toString());
            assertTrue(check.exitCode() == 0 || check.exitCode() == 3, "after kill " + (k + 1) + ": " + check);
            leaks += Math.max(0, QemuTools.jsonLong(check.stdout(), "leaks"));
        }

        try (DaemonProcess daemon = DaemonProcess.start(state);
                Connection connection = Siphon.connect("siphon+unix://" + daemon.socket())) {
            BlockingQueue<BlockJobEvent> events = new LinkedBlockingQueue<>();
            connection.addBlockJobListener(events::add);
            Domain domain = connection.lookup("vm");
            domain.start();
            if (domain.blockJobInfo("vda").isPresent()) {
                domain.blockJobSetSpeed("vda", 0, Set.of());
                BlockJobEvent event = events.poll(120, TimeUnit.SECONDS);
                assertTrue(event != null && event.status() == BlockJobStatus.COMPLETED, String.valueOf(event));
            }
            domain.shutdown();
        }
        assertEquals(null, QemuTools.backingName(top), "the resumed pull completed");
        Path flat = dir.resolve("flat.raw");
        QemuTools.flatten(top, flat);
        byte[] content = Files.readAllBytes(flat);
        for (Written write : acknowledged) {
            assertArrayEquals(
                    write.data(),
                    Arrays.copyOfRange(content, (int) write.offset(), (int) write.offset() + BLOCK),
                    "acknowledged write at " + write.offset());
        }
        for (long offset = 0; offset < SIZE; offset += BLOCK) {
            if (!touched.contains(offset)) {
                assertArrayEquals(
                        Arrays.copyOfRange(templateBytes, (int) offset, (int) offset + BLOCK),
                        Arrays.copyOfRange(content, (int) offset, (int) offset + BLOCK),
                        "template data at " + offset);
            }
        }
        System.out.printf(
                "kill loop: %d kills, 0 corruptions, 0 lost of %d acknowledged writes, %d leaked clusters%n",
                kills, acknowledged.size(), leaks);
    }

    private static String xml(Path top) {
        return "<domain><name>vm</name><devices><disk type='file'><driver type='qcow2'/><source file='" + top
                + "'/><target dev='vda'/></disk></devices></domain>";
    }
}
