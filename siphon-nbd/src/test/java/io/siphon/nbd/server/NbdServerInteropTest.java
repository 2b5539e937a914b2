package io.siphon.nbd.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.format.ImageChain;
import io.siphon.format.OpenOptions;
import io.siphon.nbd.client.NbdClient;
import io.siphon.nbd.client.NbdReplyException;
import io.siphon.nbd.testing.RandomDisk;
import io.siphon.testing.QemuTools;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Real NBD clients (nbdinfo, nbdcopy, qemu-img, qemu-io, fio) against Siphon's server over raw images. */
@Tag("interop")
class NbdServerInteropTest {
    private static final long SIZE = 16L << 20;

    @TempDir
    Path dir;

    private ImageChain disk;
    private ImageChain template;
    private NbdServer server;
    private Path diskFile;
    private Path templateFile;
    private long seed;

    @BeforeEach
    void serve() throws Exception {
        QemuTools.require("qemu-img", "qemu-io", "nbdinfo", "nbdcopy", "fio");
        seed = System.nanoTime();
        diskFile = dir.resolve("disk.raw");
        templateFile = dir.resolve("template.raw");
        byte[] content = RandomDisk.content(seed, (int) SIZE);
        // leave zero runs so that hole detection on reads has something to find
        java.util.Arrays.fill(content, 4 << 20, 6 << 20, (byte) 0);
        Files.write(diskFile, content);
        Files.write(templateFile, content);
        disk = ImageChain.open(diskFile, Optional.of("raw"), OpenOptions.READ_WRITE);
        template = ImageChain.open(templateFile, Optional.of("raw"), OpenOptions.READ_ONLY);
        server = NbdServer.builder()
                .export("disk", disk.top(), false)
                .export("template", template.top(), true)
                .listenUnix(dir.resolve("nbd.sock"))
                .build()
                .start();
    }

    @AfterEach
    void stop() throws Exception {
        if (server != null) {
            server.close();
        }
        if (disk != null) {
            disk.close();
        }
        if (template != null) {
            template.close();
        }
    }

    private String uri(String name) throws Exception {
        return server.uri(name);
    }

    @Test
    void nbdinfoListsBothExportsWithTheirFlagsAndContexts() throws Exception {
        String list = QemuTools.ok("nbdinfo", "--list", uri(""));
        assertTrue(list.contains("export=\"disk\""), list);
        assertTrue(list.contains("export=\"template\""), list);
        String template = QemuTools.ok("nbdinfo", uri("template"));
        assertTrue(template.contains("export-size: " + SIZE), template);
        assertTrue(template.contains("is_read_only: true"), template);
        assertTrue(template.contains("base:allocation"), template);
        assertTrue(template.contains("block_size_maximum: " + WireLimits.MAX_PAYLOAD_BYTES), template);
        String disk = QemuTools.ok("nbdinfo", uri("disk"));
        assertTrue(disk.contains("is_read_only: false"), disk);
        assertTrue(disk.contains("can_multi_conn: true"), disk);
        assertTrue(disk.contains("can_fua: true"), disk);
    }

    @Test
    void nbdinfoMapOfARawDiskIsAllData() throws Exception {
        String map = QemuTools.ok("nbdinfo", "--map", uri("disk"));
        assertEquals("0 " + SIZE + " 0 data", map.trim().replaceAll("\\s+", " "));
    }

    @Test
    void unknownExportIsRefusedByName() throws Exception {
        QemuTools.Result result = QemuTools.run("nbdinfo", uri("nosuch"));
        assertNotEquals(0, result.exitCode());
        assertTrue(result.stderr().contains("nosuch"), result.stderr());
    }

    @Test
    void nbdcopyOutAndInMatchTheImages() throws Exception {
        Path out = dir.resolve("out.raw");
        QemuTools.ok("nbdcopy", uri("template"), out.toString());
        assertEquals(-1, Files.mismatch(out, templateFile));

        Path incoming = dir.resolve("in.raw");
        byte[] fresh = new byte[(int) SIZE];
        new Random(seed + 1).nextBytes(fresh);
        Files.write(incoming, fresh);
        QemuTools.ok("nbdcopy", incoming.toString(), uri("disk"));
        disk.top().flush();
        assertEquals(-1, Files.mismatch(incoming, diskFile));
    }

    @Test
    void qemuImgComparesAndConvertsOverNbd() throws Exception {
        QemuTools.ok("qemu-img", "compare", "-f", "raw", "-F", "raw", templateFile.toString(), uri("template"));
        Path converted = dir.resolve("converted.qcow2");
        QemuTools.ok("qemu-img", "convert", "-f", "raw", "-O", "qcow2", uri("template"), converted.toString());
        QemuTools.ok("qemu-img", "compare", "-f", "qcow2", "-F", "raw", converted.toString(), templateFile.toString());
        // and the other way: a qcow2 image converted into a writable export
        QemuTools.ok(
                "qemu-img",
                "create",
                "-f",
                "qcow2",
                dir.resolve("pattern.qcow2").toString(),
                String.valueOf(SIZE));
        QemuTools.ok(
                "qemu-io",
                "-f",
                "qcow2",
                "-c",
                "write -P 0x3c 1M 3M",
                dir.resolve("pattern.qcow2").toString());
        QemuTools.ok(
                "qemu-img",
                "convert",
                "-n",
                "-f",
                "qcow2",
                "-O",
                "raw",
                dir.resolve("pattern.qcow2").toString(),
                uri("disk"));
        QemuTools.ok(
                "qemu-img",
                "compare",
                "-f",
                "qcow2",
                "-F",
                "raw",
                dir.resolve("pattern.qcow2").toString(),
                uri("disk"));
    }

    @Test
    void qemuIoPatternsWrittenOverNbdReadBackAndReachTheFile() throws Exception {
        QemuTools.ok(
                "qemu-io",
                "-f",
                "raw",
                "-c",
                "write -P 0xa5 65536 131072",
                "-c",
                "write -f -P 0x5a 1000 777",
                "-c",
                "write -z 3M 64k",
                "-c",
                "aio_write -P 0x11 8M 4k",
                "-c",
                "aio_write -P 0x22 9M 4k",
                "-c",
                "aio_flush",
                uri("disk"));
        String reads = QemuTools.ok(
                "qemu-io",
                "-f",
                "raw",
                "-c",
                "read -P 0xa5 65536 131072",
                "-c",
                "read -P 0x5a 1000 777",
                "-c",
                "read -P 0 3M 64k",
                "-c",
                "read -P 0x11 8M 4k",
                "-c",
                "read -P 0x22 9M 4k",
                uri("disk"));
        assertTrue(!reads.contains("Pattern verification failed"), reads);
        byte[] file = Files.readAllBytes(diskFile);
        assertEquals((byte) 0xa5, file[65536]);
        assertEquals((byte) 0xa5, file[65536 + 131071]);
        assertEquals((byte) 0x5a, file[1000 + 776]);
        assertEquals((byte) 0x22, file[9 << 20]);
    }

    @Test
    void readOnlyExportRefusesWritesWithEperm() throws Exception {
        QemuTools.Result result = QemuTools.run("qemu-io", "-f", "raw", "-c", "write -P 1 0 4k", uri("template"));
        assertNotEquals(0, result.exitCode());
        assertTrue(result.stderr().contains("Permission denied"), result.stderr());
        // a client that ignores the READ_ONLY flag and writes anyway gets EPERM per request
        try (NbdClient client = NbdClient.connect(uri("template"))) {
            assertTrue(client.isReadOnly());
            NbdReplyException refused =
                    assertThrows(NbdReplyException.class, () -> client.write(0, ByteBuffer.allocate(4096), false));
            assertEquals("EPERM", refused.errorName());
            refused = assertThrows(NbdReplyException.class, () -> client.trim(0, 4096));
            assertEquals("EPERM", refused.errorName());
            refused = assertThrows(NbdReplyException.class, () -> client.writeZeroes(0, 4096, 0));
            assertEquals("EPERM", refused.errorName());
            client.flush();
        }
        assertEquals(-1, Files.mismatch(templateFile, diskFile), "the template is unchanged");
    }

    @Test
    void fioWithVerifyAtQueueDepth16() throws Exception {
        String output = QemuTools.ok(
                "fio",
                "--name=verify",
                "--ioengine=nbd",
                "--uri=" + uri("disk"),
                "--rw=randwrite",
                "--bs=4k",
                "--iodepth=16",
                "--size=8M",
                "--verify=crc32c",
                "--verify_fatal=1",
                "--do_verify=1",
                "--verify_state_save=0", // no state file left in the working directory
                "--randseed=" + (seed & 0xffff));
        assertTrue(output.contains("err= 0"), output);
        String mixed = QemuTools.ok(
                "fio",
                "--name=mixed",
                "--ioengine=nbd",
                "--uri=" + uri("disk"),
                "--rw=randrw",
                "--bsrange=512-128k",
                "--iodepth=32",
                "--size=8M",
                "--io_size=32M",
                "--verify=md5",
                "--verify_fatal=1",
                "--verify_state_save=0");
        assertTrue(mixed.contains("err= 0"), mixed);
    }
}
