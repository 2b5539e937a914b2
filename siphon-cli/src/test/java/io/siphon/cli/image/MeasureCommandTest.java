package io.siphon.cli.image;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.siphon.cli.Cli;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** {@code image measure} prints what {@code qemu-img measure} prints, for images and for sizes. */
@Tag("interop")
class MeasureCommandTest extends ImageFilesTest {

    @Test
    void measuresAsQemuImgDoes() throws Exception {
        ConvertCommandTest.writeChain(dir);
        qemuImgOk("create", "-f", "qcow2", path("marked.qcow2"), "10M");
        Cli.qemuIo(dir, "qcow2", "marked.qcow2", "write -P 5 64k 1k");
        qemuImgOk("bitmap", "--add", path("marked.qcow2"), "b0");
        qemuImgOk("bitmap", "--add", "-g", "128k", path("marked.qcow2"), "longer-name");
        List<List<String>> cases = List.of(
                List.of("-O", "qcow2", path("top.qcow2")),
                List.of("-O", "qcow2", "-o", "cluster_size=512", path("top.qcow2")),
                List.of("-O", "qcow2", "-o", "cluster_size=2M,refcount_bits=1", path("top.qcow2")),
                List.of("-O", "qcow2", "-o", "refcount_bits=64", path("base.raw"), "-f", "raw"),
                List.of("-O", "raw", path("top.qcow2")),
                List.of("-O", "qcow2", path("marked.qcow2")),
                List.of("-O", "qcow2", "-o", "compat=0.10", path("marked.qcow2")),
                List.of("-O", "qcow2", "--size", "3G"),
                List.of("-O", "qcow2", "-o", "cluster_size=4k", "--size", "1T"),
                List.of("-O", "raw", "--size", "1000001"),
                List.of("-O", "qed", path("top.qcow2")));
        for (List<String> args : cases) {
            for (String layout : List.of("--output=human", "--output=json")) {
                List<String> all = new ArrayList<>(List.of("measure", layout));
                all.addAll(args);
                Cli.Result qemu = Cli.qemuImg(dir, all.toArray(String[]::new));
                all.addFirst("image");
                Cli.Result siphon = Cli.siphon(all.toArray(String[]::new));
                assertEquals(qemu.status(), siphon.status(), all + "\nsiphon: " + siphon + "\nqemu: " + qemu);
                assertEquals(qemu.out(), siphon.out(), all.toString());
                if (siphon.status() != 0) {
                    assertEquals(1, siphon.err().lines().count(), all + ": " + siphon.err());
                }
            }
        }
    }
}
