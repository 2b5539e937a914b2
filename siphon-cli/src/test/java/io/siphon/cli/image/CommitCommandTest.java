package io.siphon.cli.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.cli.Cli;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * {@code image commit} against {@code qemu-img commit} on copies of the same chain: every image
 * reads the same afterwards (qemu-img compare), checks clean and maps alike (host offsets aside:
 * the order of the writes differs), the emptied top is qemu-img's byte for byte, and the output,
 * errors and exit codes are qemu-img's.
 */
@Tag("interop")
class CommitCommandTest extends ImageFilesTest {
    private static final Pattern PROGRESS =
            Pattern.compile("( {4}\\(\\d{1,3}\\.\\d\\d/100%\\)\r)+\nImage committed.\n");
    private static final List<String> IMAGES = List.of("base.qcow2", "mid.qcow2", "top.qcow2");

    /** base.qcow2 (8M) under mid.qcow2 under top.qcow2 (12M: data, a zero range, data past the base's end). */
    private void chain(Path into, String topOptions) throws Exception {
        Files.createDirectories(into);
        Cli.qemuImgOk(into, "create", "-q", "-f", "qcow2", "base.qcow2", "8M");
        Cli.qemuIo(into, "qcow2", "base.qcow2", "write -P 1 0 4M");
        Cli.qemuImgOk(into, "create", "-q", "-f", "qcow2", "-b", "base.qcow2", "-F", "qcow2", "mid.qcow2");
        Cli.qemuIo(into, "qcow2", "mid.qcow2", "write -P 2 1M 1M");
        Cli.qemuImgOk(
                into,
                "create",
                "-q",
                "-f",
                "qcow2",
                "-o",
                topOptions,
                "-b",
                "mid.qcow2",
                "-F",
                "qcow2",
                "top.qcow2",
                "12M");
        Cli.qemuIo(into, "qcow2", "top.qcow2", "write -P 3 1536k 1M", "write -z 0 64k", "write -P 4 9M 64k");
    }

    /** Which image of the chain holds each range and whether it reads zeroes ({@link #layout(Path, List, List)}). */
    private static List<String> layout(Path in, String file) throws Exception {
        return layout(in, List.of(file), List.of("depth", "zero", "data"));
    }

    /** qemu-img info without the lines that name the directory or the file's blocks. */
    private String info(Path in, String image) throws Exception {
        return Cli.qemuImg(in, "info", image).out().replaceAll("(image|disk size): .*\n", "");
    }

    private Cli.Result siphon(List<String> args, Path in) {
        List<String> command = new ArrayList<>(List.of("image", "commit"));
        command.addAll(args);
        command.set(command.size() - 1, in.resolve(args.getLast()).toString());
        return Cli.siphon(command.toArray(String[]::new));
    }

    @Test
    void commitsAsQemuImgDoes() throws Exception {
        for (String topOptions : List.of("cluster_size=64k", "compat=0.10", "cluster_size=4k,lazy_refcounts=on")) {
            for (List<String> extra : List.of(
                    List.<String>of(), List.of("-d"), List.of("-b", "base.qcow2"), List.of("-b", "mid.qcow2", "-q"))) {
                String tag = (topOptions + String.join("", extra)).replaceAll("[^a-z0-9]", "");
                Path theirs = dir.resolve("q" + tag);
                Path ours = dir.resolve("s" + tag);
                chain(theirs, topOptions);
                chain(ours, topOptions);
                List<String> args = new ArrayList<>(extra);
                args.add("top.qcow2");
                List<String> qemu = new ArrayList<>(List.of("commit"));
                qemu.addAll(args);
                Cli.Result expected = Cli.qemuImg(theirs, qemu.toArray(String[]::new));
                assertEquals(0, expected.status(), expected.toString());
                Cli.Result result = siphon(args, ours);
                assertEquals(0, result.status(), tag + ": " + result);
                assertEquals(expected.out(), result.out(), tag);
                for (String image : IMAGES) {
                    Cli.Result same = Cli.qemuImg(
                            dir,
                            "compare",
                            theirs.resolve(image).toString(),
                            ours.resolve(image).toString());
                    assertEquals(0, same.status(), tag + " " + image + ": " + same);
                    Cli.Result check = Cli.qemuImg(ours, "check", image);
                    assertEquals(
                            Cli.qemuImg(theirs, "check", image).out().lines().findFirst(),
                            check.out().lines().findFirst(),
                            tag + " " + image);
                    assertEquals(layout(theirs, image), layout(ours, image), tag + " " + image);
                    assertEquals(info(theirs, image), info(ours, image), tag + " " + image);
                }
                assertArrayEquals(
                        Files.readAllBytes(theirs.resolve("top.qcow2")),
                        Files.readAllBytes(ours.resolve("top.qcow2")),
                        tag + ": the top as qemu-img leaves it");
            }
        }
    }

    @Test
    void progressAndFailuresAreQemuImgs() throws Exception {
        Path theirs = dir.resolve("q");
        Path ours = dir.resolve("s");
        chain(theirs, "cluster_size=64k");
        chain(ours, "cluster_size=64k");
        Cli.Result expected = Cli.qemuImg(theirs, "commit", "-p", "-t", "none", "-r", "1G", "top.qcow2");
        Cli.Result result = siphon(List.of("-p", "-t", "none", "-r", "1G", "top.qcow2"), ours);
        for (Cli.Result r : List.of(expected, result)) {
            assertEquals(0, r.status(), r.toString());
            assertTrue(PROGRESS.matcher(r.out()).matches(), r.out());
            assertTrue(r.out().startsWith("    (0.00/100%)\r"), r.out());
        }
        assertEquals(
                0,
                Cli.qemuImg(
                                dir,
                                "compare",
                                theirs.resolve("mid.qcow2").toString(),
                                ours.resolve("mid.qcow2").toString())
                        .status());
        for (List<String> args : List.of(
                List.of("base.qcow2"),
                List.of("-b", "nothere.qcow2", "top.qcow2"),
                List.of("-b", "top.qcow2", "top.qcow2"),
                List.of("-r", "fast", "top.qcow2"))) {
            List<String> qemu = new ArrayList<>(List.of("commit"));
            qemu.addAll(args);
            Cli.Result q = Cli.qemuImg(theirs, qemu.toArray(String[]::new));
            Cli.Result s = siphon(args, ours);
            assertEquals(1, q.status(), q.toString());
            assertEquals(1, s.status(), s.toString());
            String named = q.err().replace("qemu-img: ", "siphon: ");
            assertEquals(named, s.err().replace(ours.resolve("top.qcow2").toString(), "top.qcow2"), args.toString());
        }
    }

    /** QED has no way to empty an image in QEMU (ENOTSUP, ignored): the top stays as it was, the raw base grows. */
    @Test
    void aQedTopIsLeftAsQemuImgLeavesIt() throws Exception {
        for (Path in : List.of(dir.resolve("q"), dir.resolve("s"))) {
            Files.createDirectories(in);
            Cli.qemuImgOk(in, "create", "-q", "-f", "raw", "base.raw", "2M");
            Cli.qemuIo(in, "raw", "base.raw", "write -P 1 0 2M");
            Cli.qemuImgOk(in, "create", "-q", "-f", "qed", "-b", "base.raw", "-F", "raw", "top.qed", "4M");
            Cli.qemuIo(in, "qed", "top.qed", "write -P 5 0 1M", "write -z 1M 64k", "write -P 6 3M 64k");
        }
        Cli.qemuImgOk(dir.resolve("q"), "commit", "top.qed");
        assertEquals(0, siphon(List.of("top.qed"), dir.resolve("s")).status());
        for (String image : List.of("base.raw", "top.qed")) {
            assertArrayEquals(
                    Files.readAllBytes(dir.resolve("q").resolve(image)),
                    Files.readAllBytes(dir.resolve("s").resolve(image)),
                    image);
        }
    }
}
