package io.siphon.nbd.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.block.filter.CopyOnReadFilter;
import io.siphon.block.filter.RequestGate;
import io.siphon.format.ImageChain;
import io.siphon.format.OpenOptions;
import io.siphon.testing.QemuTools;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * base:allocation of a qcow2 overlay over a qcow2 template, as nbdinfo --map shows it: Siphon's
 * server must show what qemu-nbd shows for the same files (data, zero, hole through the whole chain).
 */
@Tag("interop")
class ChainStatusTest {
    @TempDir
    Path dir;

    /** One merged line of nbdinfo --map: offset, length, type (0 data, 3 hole+zero…). */
    record MapLine(long offset, long length, int type) {}

    static List<MapLine> map(String uri) throws Exception {
        List<MapLine> lines = new ArrayList<>();
        for (String line : QemuTools.ok("nbdinfo", "--map", uri).split("\n")) {
            String[] fields = line.trim().split("\\s+");
            if (fields.length < 3) {
                continue;
            }
            MapLine next =
                    new MapLine(Long.parseLong(fields[0]), Long.parseLong(fields[1]), Integer.parseInt(fields[2]));
            if (!lines.isEmpty() && lines.getLast().type() == next.type()) {
                MapLine last = lines.removeLast();
                next = new MapLine(last.offset(), last.length() + next.length(), next.type());
            }
            lines.add(next);
        }
        return lines;
    }

    @Test
    void overlayMapMatchesQemuNbd() throws Exception {
        QemuTools.require("qemu-img", "qemu-io", "qemu-nbd", "nbdinfo");
        Path base = dir.resolve("base.qcow2");
        Path overlay = dir.resolve("overlay.qcow2");
        QemuTools.ok("qemu-img", "create", "-f", "qcow2", base.toString(), "4M");
        QemuTools.ok(
                "qemu-io",
                "-f",
                "qcow2",
                "-c",
                "write -P 0x11 0 1M",
                "-c",
                "write -z 2M 128k",
                "-c",
                "write -P 0x33 3M 128k",
                base.toString());
        QemuTools.ok("qemu-img", "create", "-f", "qcow2", "-b", "base.qcow2", "-F", "qcow2", overlay.toString(), "6M");
        QemuTools.ok(
                "qemu-io",
                "-f",
                "qcow2",
                "-c",
                "write -P 0x22 512k 256k",
                "-c",
                "write -z 3M 64k",
                "-c",
                "write -P 0x55 5M 64k",
                overlay.toString());

        Path qemuSocket = dir.resolve("qemu.sock");
        Process qemu = QemuTools.start(
                List.of("qemu-nbd", "-r", "-t", "-k", qemuSocket.toString(), "-f", "qcow2", overlay.toString()),
                dir.resolve("qemu-nbd.log"));
        try (ImageChain chain = ImageChain.open(overlay, Optional.of("qcow2"), OpenOptions.READ_ONLY)) {
            QemuTools.awaitSocket(qemuSocket, qemu);
            RequestGate filtered = new RequestGate(new CopyOnReadFilter(chain.top(), 65536), 65536, false);
            try (NbdServer server = NbdServer.builder()
                    .export("overlay", chain.top(), true)
                    .export("filtered", filtered, true)
                    .listenUnix(dir.resolve("siphon.sock"))
                    .build()
                    .start()) {
                List<MapLine> expected = map("nbd+unix:///?socket=" + qemuSocket);
                System.out.println("qemu-nbd map: " + expected);
                assertTrue(expected.size() >= 5, "the files give a varied map: " + expected);
                assertEquals(expected, map(server.uri("overlay")));
                assertEquals(expected, map(server.uri("filtered")));
                QemuTools.ok("qemu-img", "compare", "nbd+unix:///?socket=" + qemuSocket, server.uri("overlay"));
            }
        } finally {
            qemu.destroy();
            qemu.waitFor();
        }
    }
}
