package io.siphon.cli.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.cli.Cli;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * {@code image amend} against {@code qemu-img amend} on two copies of the same image: the result is
 * qemu-img's byte for byte (compat up and down with zero clusters expanded, lazy refcounts, size),
 * checks and reads the same; refusals are qemu-img's lines with its exit code.
 */
@Tag("interop")
class AmendCommandTest extends ImageFilesTest {
    private static final Pattern PROGRESS = Pattern.compile("( {4}\\(\\d{1,3}\\.\\d\\d/100%\\)\r)+\n");

    /** A 4M qcow2 with a zero cluster, a preallocated zero cluster and data. */
    private void image(String name, String options) throws Exception {
        Files.deleteIfExists(dir.resolve(name));
        List<String> create = new ArrayList<>(List.of("create", "-q", "-f", "qcow2"));
        if (!options.isEmpty()) {
            create.addAll(List.of("-o", options));
        }
        create.addAll(List.of(path(name), "4M"));
        qemuImgOk(create.toArray(String[]::new));
        Cli.qemuIo(dir, "qcow2", name, "write -z 0 64k", "write -P 1 64k 64k", "write -z 64k 64k", "write -P 2 1M 4k");
    }

    @Test
    void amendsAsQemuImgDoes() throws Exception {
        for (String[] c : new String[][] {
            {"compat=0.10", "compat=1.1"},
            {"compat=0.10,cluster_size=4k", "compat=1.1,lazy_refcounts=on"},
            {"", "compat=0.10"},
            {"cluster_size=4k", "compat=0.10"},
            {"lazy_refcounts=on", "compat=0.10"},
            {"", "lazy_refcounts=on"},
            {"lazy_refcounts=on", "lazy_refcounts=off"},
            {"", "size=8M"},
            {"", "size=1M"},
            {"", "refcount_bits=16,compat=1.1"},
        }) {
            String tag = c[0] + " | " + c[1];
            image("q.qcow2", c[0]);
            image("s.qcow2", c[0]);
            qemuImgOk("amend", "-o", c[1], path("q.qcow2"));
            Cli.Result ours = Cli.siphon("image", "amend", "-o", c[1], path("s.qcow2"));
            assertEquals(0, ours.status(), tag + ": " + ours);
            assertEquals("", ours.out() + ours.err(), tag);
            assertEquals(
                    0,
                    Cli.qemuImg(dir, "compare", path("q.qcow2"), path("s.qcow2"))
                            .status(),
                    tag);
            Cli.Result check = Cli.qemuImg(dir, "check", path("s.qcow2"));
            assertEquals(0, check.status(), tag + ": " + check);
            assertEquals(
                    Cli.qemuImg(dir, "info", path("q.qcow2")).out().replaceAll("(image|disk size): .*\n", ""),
                    Cli.qemuImg(dir, "info", path("s.qcow2")).out().replaceAll("(image|disk size): .*\n", ""),
                    tag);
            if (!c[1].equals("size=1M")) { // shrinking is resize's, whose layout differs from QEMU's
                assertArrayEquals(
                        Files.readAllBytes(dir.resolve("q.qcow2")), Files.readAllBytes(dir.resolve("s.qcow2")), tag);
            }
        }
        image("s.qcow2", "");
        Cli.Result progress = Cli.siphon("image", "amend", "-p", "-o", "compat=0.10", path("s.qcow2"));
        assertTrue(PROGRESS.matcher(progress.out()).matches(), progress.out());
    }

    @Test
    void refusalsAreQemuImgs() throws Exception {
        image("a.qcow2", "");
        image("r8.qcow2", "refcount_bits=8");
        qemuImgOk("create", "-q", "-f", "qcow2", "-b", path("a.qcow2"), "-F", "qcow2", path("ov.qcow2"));
        qemuImgOk("create", "-q", "-f", "qed", path("b.qed"), "4M");
        qemuImgOk("create", "-q", "-f", "raw", path("c.raw"), "4M");
        byte[] before = Files.readAllBytes(dir.resolve("a.qcow2"));
        for (List<String> args : List.of(
                List.of("-o", "bogus=1", path("a.qcow2")),
                List.of("-o", "cluster_size=4k", path("a.qcow2")),
                List.of("-o", "compression_type=zstd", path("a.qcow2")),
                List.of("-o", "compat=0.9", path("a.qcow2")),
                List.of("-o", "lazy_refcounts=maybe", path("a.qcow2")),
                List.of("-o", "size=abc", path("a.qcow2")),
                List.of("-o", "compat=0.10,lazy_refcounts=on", path("a.qcow2")),
                List.of("-o", "backing_file=other.qcow2", path("a.qcow2")),
                List.of("-o", "backing_fmt=qcow2", path("ov.qcow2")),
                List.of("-o", "compat=0.10", path("r8.qcow2")),
                List.of("-o", "data_file=x.raw", path("a.qcow2")),
                List.of("-o", "data_file_raw=on", path("a.qcow2")),
                List.of("-o", "data_file_raw=maybe", path("a.qcow2")),
                List.of("-o", "encrypt.state=active", path("a.qcow2")),
                List.of("-o", "encrypt.new-secret=s0,data_file=x.raw", path("a.qcow2")),
                List.of("-o", "size=8M", path("b.qed")),
                List.of("-o", "help", path("b.qed")),
                List.of("-f", "raw", "-o", "size=8M", path("c.raw")))) {
            assertRefusedAsByQemuImg("amend", args);
        }
        assertArrayEquals(before, Files.readAllBytes(dir.resolve("a.qcow2")), "a refusal changes nothing");
        Cli.Result none = Cli.siphon("image", "amend", path("a.qcow2"));
        assertEquals(1, none.status());
        assertEquals(
                Cli.qemuImg(dir, "amend", path("a.qcow2"))
                        .err()
                        .lines()
                        .findFirst()
                        .orElseThrow()
                        .replace("qemu-img", "siphon"),
                none.err().strip());
        // zstd: downgraded as qemu-img does while no cluster is compressed; refused once one is
        // (qemu-img 7.2 downgrades it too, and then reads the zstd clusters as zlib)
        for (String name : List.of("zq.qcow2", "zs.qcow2")) {
            qemuImgOk("create", "-q", "-f", "qcow2", "-o", "compression_type=zstd", path(name), "1M");
        }
        qemuImgOk("amend", "-o", "compat=0.10", path("zq.qcow2"));
        assertEquals(
                0,
                Cli.siphon("image", "amend", "-o", "compat=0.10", path("zs.qcow2"))
                        .status());
        assertArrayEquals(Files.readAllBytes(dir.resolve("zq.qcow2")), Files.readAllBytes(dir.resolve("zs.qcow2")));
        assertEquals(
                0,
                Cli.siphon(
                                "image",
                                "convert",
                                "-c",
                                "-O",
                                "qcow2",
                                "-o",
                                "compression_type=zstd",
                                path("a.qcow2"),
                                path("z.qcow2"))
                        .status());
        Cli.Result zstd = Cli.siphon("image", "amend", "-o", "compat=0.10", path("z.qcow2"));
        assertEquals(1, zstd.status(), zstd.toString());
        assertTrue(
                zstd.err().startsWith("siphon: Cannot downgrade an image with zstd compressed clusters"), zstd.err());
        assertEquals(
                0, Cli.qemuImg(dir, "compare", path("a.qcow2"), path("z.qcow2")).status());
        // -o help: qemu-img's lines, those Siphon changes
        Cli.Result help = Cli.siphon("image", "amend", "-f", "qcow2", "-o", "help");
        assertEquals(0, help.status(), help.toString());
        List<String> qemuLines = Cli.qemuImg(dir, "amend", "-f", "qcow2", "-o", "help")
                .out()
                .lines()
                .toList();
        assertEquals(qemuLines.getFirst(), help.out().lines().findFirst().orElseThrow());
        List<String> ordered = new ArrayList<>(qemuLines);
        ordered.retainAll(help.out().lines().toList());
        assertEquals(help.out().lines().toList(), ordered);
        assertEquals(7, ordered.size(), help.out());
    }
}
