package io.siphon.cli.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.cli.Cli;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * {@code image amend -o refcount_bits=N} against {@code qemu-img amend} on copies of the same
 * images (data over a backing file, an internal snapshot, compressed clusters, extended L2 entries), to each width and
 * back to 16: the same exit status and refusal, the file qemu-img's byte for byte, qemu-img check
 * clean, qemu-img info the same, the disk and its snapshot reading the same through qemu-img and
 * Siphon.
 */
@Tag("interop")
class RefcountBitsAmendTest extends ImageFilesTest {
    private static final Pattern PROGRESS = Pattern.compile("( {4}\\(\\d{1,3}\\.\\d\\d/100%\\)\r)+\n");
    private static final List<Integer> WIDTHS = List.of(1, 2, 4, 8, 16, 32, 64);

    @BeforeEach
    void images() throws Exception {
        qemuImgOk("create", "-q", "-f", "qcow2", path("base.qcow2"), "4M");
        Cli.qemuIo(dir, "qcow2", "base.qcow2", "write -P 9 0 4M");
        // the snapshot shares every cluster written before it, and compressed clusters share host clusters
        overlay("shared.qcow2", "cluster_size=65536");
        Cli.qemuIo(dir, "qcow2", "shared.qcow2", "write -P 1 0 512k", "write -c -P 2 1M 256k");
        qemuImgOk("snapshot", "-c", "kept", path("shared.qcow2"));
        Cli.qemuIo(dir, "qcow2", "shared.qcow2", "write -P 3 256k 64k", "write -c -P 4 3M 64k", "write -z 2M 64k");
        // a snapshot of the empty overlay shares nothing, and one compressed cluster has its host cluster
        // alone: every refcount is 1, so that 1-bit refcounts hold them; 512-byte clusters, so that
        // the new structures take many blocks (64 clusters each at 64 bits) and a table that grows
        overlay("single.qcow2", "cluster_size=512");
        qemuImgOk("snapshot", "-c", "kept", path("single.qcow2"));
        Cli.qemuIo(dir, "qcow2", "single.qcow2", "write -P 1 0 512k", "write -c -P 2 1M 512", "write -z 2M 64k");
        // extended L2 entries: partly allocated clusters over the backing file, refcounts of 2 at most
        overlay("subclusters.qcow2", "extended_l2=on");
        Cli.qemuIo(dir, "qcow2", "subclusters.qcow2", "write -P 5 4k 8k", "write -P 6 1M 100k", "write -z 2M 2k");
        qemuImgOk("snapshot", "-c", "kept", path("subclusters.qcow2"));
        Cli.qemuIo(dir, "qcow2", "subclusters.qcow2", "write -P 7 8k 4k");
    }

    /** A 4 MiB qcow2 overlay of base.qcow2 made by qemu-img with {@code options}. */
    private void overlay(String name, String options) throws Exception {
        qemuImgOk("create", "-q", "-f", "qcow2", "-b", "base.qcow2", "-F", "qcow2", "-o", options, path(name), "4M");
    }

    @Test
    void everyWidthAndBackIsQemuImgs() throws Exception {
        // every width on the image whose refcounts are all 1; on the shared one, the two refused and two more
        for (String image : List.of("single.qcow2", "shared.qcow2", "subclusters.qcow2")) {
            List<Integer> widths = switch (image) {
                case "single.qcow2" -> WIDTHS;
                case "shared.qcow2" -> List.of(1, 2, 4, 64);
                default -> List.of(2, 8, 64);
            };
            for (int bits : widths) {
                String tag = image + " " + bits;
                Files.copy(dir.resolve(image), dir.resolve("q.qcow2"), StandardCopyOption.REPLACE_EXISTING);
                Files.copy(dir.resolve(image), dir.resolve("s.qcow2"), StandardCopyOption.REPLACE_EXISTING);
                if (!amendBoth("refcount_bits=" + bits, tag)) {
                    assertArrayEquals(
                            Files.readAllBytes(dir.resolve(image)),
                            Files.readAllBytes(dir.resolve("s.qcow2")),
                            tag + ": a refusal changes nothing");
                    continue;
                }
                assertSameImages(bits, tag);
                assertTrue(amendBoth("refcount_bits=16", tag + " back"), tag);
                assertSameImages(16, tag + " back");
            }
        }
    }

    /** Amends q.qcow2 with qemu-img and s.qcow2 with Siphon; true if both did, the same refusal if not. */
    private boolean amendBoth(String options, String tag) throws Exception {
        Cli.Result theirs = Cli.qemuImg(dir, "amend", "-o", options, path("q.qcow2"));
        Cli.Result ours = Cli.siphon("image", "amend", "-o", options, path("s.qcow2"));
        assertEquals(theirs.status(), ours.status(), tag + ": " + theirs + " / " + ours);
        assertEquals(theirs.err().replace("qemu-img: ", "siphon: "), ours.err(), tag);
        assertEquals("", ours.out(), tag);
        return ours.status() == 0;
    }

    private void assertSameImages(int bits, String tag) throws Exception {
        assertArrayEquals(Files.readAllBytes(dir.resolve("q.qcow2")), Files.readAllBytes(dir.resolve("s.qcow2")), tag);
        Cli.Result check = Cli.qemuImg(dir, "check", path("s.qcow2"));
        assertEquals(0, check.status(), tag + ": " + check);
        String info = Cli.qemuImg(dir, "info", path("s.qcow2")).out();
        assertTrue(info.contains("\n    refcount bits: " + bits + "\n"), tag + ": " + info);
        assertEquals(
                Cli.qemuImg(dir, "info", path("q.qcow2")).out().replaceAll("(image|disk size): .*\n", ""),
                info.replaceAll("(image|disk size): .*\n", ""),
                tag);
        assertEquals(
                0, Cli.qemuImg(dir, "compare", path("q.qcow2"), path("s.qcow2")).status(), tag);
        Cli.Result read = Cli.siphon("image", "compare", path("q.qcow2"), path("s.qcow2"));
        assertEquals(0, read.status(), tag + ": " + read);
        assertArrayEquals(snapshot("q.qcow2"), snapshot("s.qcow2"), tag + ": the snapshot");
    }

    private byte[] snapshot(String image) throws Exception {
        String raw = path(image + ".kept.raw");
        qemuImgOk("convert", "-l", "snapshot.name=kept", "-O", "raw", path(image), raw);
        return Files.readAllBytes(Path.of(raw));
    }

    @Test
    void refusalsAreQemuImgsAndChangeNothing() throws Exception {
        qemuImgOk("create", "-q", "-f", "qcow2", "-o", "compat=0.10", path("v2.qcow2"), "1M");
        qemuImgOk("create", "-q", "-f", "qcow2", "-o", "refcount_bits=8", path("r8.qcow2"), "1M");
        for (List<String> args : List.of(
                List.of("-o", "refcount_bits=1", path("shared.qcow2")),
                List.of("-o", "refcount_bits=2", path("shared.qcow2")),
                List.of("-o", "refcount_bits=3", path("single.qcow2")),
                List.of("-o", "refcount_bits=0", path("single.qcow2")),
                List.of("-o", "refcount_bits=128", path("single.qcow2")),
                List.of("-o", "refcount_bits=-1", path("single.qcow2")),
                List.of("-o", "refcount_bits=abc", path("single.qcow2")),
                List.of("-o", "compat=0.10,refcount_bits=8", path("single.qcow2")),
                List.of("-o", "refcount_bits=8", path("v2.qcow2")),
                List.of("-o", "compat=0.10", path("r8.qcow2")),
                List.of("-o", "refcount_bits=3,compat=0.9", path("single.qcow2")))) {
            Path file = Path.of(args.getLast());
            byte[] before = Files.readAllBytes(file);
            assertRefusedAsByQemuImg("amend", args);
            assertArrayEquals(before, Files.readAllBytes(file), args + ": a refusal changes nothing");
        }
        // the width changes before the downgrade, as qemu-img does it
        Files.copy(dir.resolve("r8.qcow2"), dir.resolve("q.qcow2"));
        Files.copy(dir.resolve("r8.qcow2"), dir.resolve("s.qcow2"));
        assertTrue(amendBoth("compat=0.10,refcount_bits=16", "downgrade"));
        assertEquals(0, Cli.qemuImg(dir, "check", path("s.qcow2")).status());
        assertEquals(
                Cli.qemuImg(dir, "info", path("q.qcow2")).out().replaceAll("(image|disk size): .*\n", ""),
                Cli.qemuImg(dir, "info", path("s.qcow2")).out().replaceAll("(image|disk size): .*\n", ""));
    }

    @Test
    void progressIsQemuImgs() throws Exception {
        for (String[] c : new String[][] {{"shared.qcow2", "4"}, {"single.qcow2", "64"}, {"single.qcow2", "16"}}) {
            String tag = String.join(" ", c);
            Files.copy(dir.resolve(c[0]), dir.resolve("q.qcow2"), StandardCopyOption.REPLACE_EXISTING);
            Files.copy(dir.resolve(c[0]), dir.resolve("s.qcow2"), StandardCopyOption.REPLACE_EXISTING);
            Cli.Result theirs = Cli.qemuImg(dir, "amend", "-p", "-o", "refcount_bits=" + c[1], path("q.qcow2"));
            Cli.Result ours = Cli.siphon("image", "amend", "-p", "-o", "refcount_bits=" + c[1], path("s.qcow2"));
            assertEquals(0, ours.status(), tag + ": " + ours);
            assertTrue(PROGRESS.matcher(ours.out()).matches(), tag + ": " + ours.out());
            // each walk over the old refcount table, percent by percent
            assertEquals(theirs.out(), ours.out(), tag);
        }
    }
}
