package io.siphon.cli.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.siphon.cli.Cli;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The image commands on qcow2 images with extended L2 entries (subclusters), made by siphon and by
 * qemu-img: output compared with qemu-img's on the same files, results checked by qemu-img.
 */
@Tag("interop")
class ExtendedL2CommandsTest extends ImageFilesTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long L2_OFFSET_MASK = 0x00fffffffffffe00L;

    /** Runs the same image command through siphon and qemu-img; both must exit alike and print the same. */
    private Cli.Result both(String... args) throws Exception {
        List<String> ours = new ArrayList<>(List.of("image"));
        ours.addAll(List.of(args));
        Cli.Result siphon = Cli.siphon(ours.toArray(String[]::new));
        Cli.Result qemu = Cli.qemuImg(dir, args);
        String what = String.join(" ", args) + "\nsiphon: " + siphon + "\nqemu: " + qemu;
        assertEquals(qemu.status(), siphon.status(), what);
        assertEquals(qemu.out(), siphon.out(), what);
        return siphon;
    }

    /**
     * A raw template, a clone made by siphon with partial-subcluster writes by qemu-io (zeroes and a
     * discard among them), and a standalone one (unallocated subclusters of allocated clusters).
     */
    private void images() throws Exception {
        qemuImgOk("create", "-f", "raw", path("base.raw"), "4M");
        Cli.qemuIo(dir, "raw", "base.raw", "write -P 0x11 0 3M");
        Cli.Result created = Cli.siphon(
                "image",
                "create",
                "-f",
                "qcow2",
                "-o",
                "extended_l2=on",
                "-b",
                "base.raw",
                "-F",
                "raw",
                path("clone.qcow2"));
        assertEquals(0, created.status(), created.toString());
        Cli.qemuIo(
                dir,
                "qcow2",
                "clone.qcow2",
                "write -P 0x22 5000 3000",
                "write -z 65536 4096",
                "write -P 0x23 70000 100",
                "discard 196608 65536",
                "write -P 0x24 1000000 300000");
        Cli.Result alone = Cli.siphon(
                "image", "create", "-f", "qcow2", "-o", "extended_l2=on,cluster_size=32k", path("alone.qcow2"), "2M");
        assertEquals(0, alone.status(), alone.toString());
        Cli.qemuIo(dir, "qcow2", "alone.qcow2", "write -P 0x31 4096 1024", "write -z 40000 1000");
    }

    @Test
    void infoMapCheckAndCompareMatchQemuImg() throws Exception {
        images();
        for (String image : List.of(path("clone.qcow2"), path("alone.qcow2"))) {
            both("info", image);
            both("info", "--output=json", image);
            both("map", "--output=json", image);
            both("map", image);
            both("check", image);
            both("check", "--output=json", image);
        }
        String info = Cli.siphon("image", "info", path("clone.qcow2")).out();
        assertTrue(info.contains("    extended l2: true\n"), info);
        qemuImgOk("convert", "-O", "raw", path("clone.qcow2"), path("clone.raw"));
        both("compare", "-F", "raw", path("clone.qcow2"), path("clone.raw"));
        Cli.qemuIo(dir, "raw", "clone.raw", "write -P 0x99 6000 1");
        both("compare", "-F", "raw", path("clone.qcow2"), path("clone.raw"));
    }

    /** Preallocation links host clusters whose subclusters stay unallocated: qemu-img's bytes, and over a backing file too. */
    @Test
    void preallocatedImagesAreQemuImgs() throws Exception {
        qemuImgOk("create", "-f", "raw", path("base.raw"), "3M");
        Cli.qemuIo(dir, "raw", "base.raw", "write -P 0x11 0 3M");
        int n = 0;
        for (String mode : List.of("metadata", "falloc", "full")) {
            for (boolean backed : List.of(false, true)) {
                List<String> args = new ArrayList<>(List.of("create", "-q", "-f", "qcow2"));
                if (backed) {
                    args.addAll(List.of("-b", "base.raw", "-F", "raw"));
                }
                args.addAll(List.of("-o", "extended_l2=on,preallocation=" + mode));
                List<String> theirs = new ArrayList<>(args);
                theirs.add(path("q" + n + ".qcow2"));
                List<String> ours = new ArrayList<>(List.of("image"));
                ours.addAll(args);
                ours.add(path("s" + n + ".qcow2"));
                if (!backed) {
                    theirs.add("3M");
                    ours.add("3M");
                }
                String tag = String.join(" ", args);
                qemuImgOk(theirs.toArray(String[]::new));
                Cli.Result created = Cli.siphon(ours.toArray(String[]::new));
                assertEquals(0, created.status(), tag + ": " + created);
                assertArrayEquals(
                        Files.readAllBytes(dir.resolve("q" + n + ".qcow2")),
                        Files.readAllBytes(dir.resolve("s" + n + ".qcow2")),
                        tag);
                both("map", "--output=json", path("s" + n + ".qcow2"));
                both("check", path("s" + n + ".qcow2"));
                n++;
            }
        }
    }

    @Test
    void hostileBitmapsAreReportedAsQemuImgReportsThem() throws Exception {
        qemuImgOk("create", "-f", "qcow2", "-o", "extended_l2=on", path("made.qcow2"), "1M");
        Cli.qemuIo(dir, "qcow2", "made.qcow2", "write -P 1 0 64k", "write -P 3 140k 2k");
        // guest cluster 0 with subcluster 0 allocated and zero; cluster 3 unallocated with an allocated subcluster
        for (long[] damage : new long[][] {{0, 0x100000001L}, {3, 1}, {2, 0xffffffffffffffffL}}) {
            String name = "hostile-" + damage[0] + ".qcow2";
            Files.copy(dir.resolve("made.qcow2"), dir.resolve(name));
            try (FileChannel file =
                    FileChannel.open(dir.resolve(name), StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                long l2 = readLong(file, readLong(file, 40)) & L2_OFFSET_MASK;
                file.write(ByteBuffer.allocate(8).putLong(0, damage[1]), l2 + damage[0] * 16 + 8);
            }
            Cli.Result ours = both("check", path(name));
            assertEquals(2, ours.status(), ours.toString());
            assertEquals(Cli.qemuImg(dir, "check", path(name)).err(), ours.err(), name);
            Cli.Result json = Cli.siphon("image", "check", "--output=json", path(name));
            assertEquals(
                    JSON.readTree(Cli.qemuImg(dir, "check", "--output=json", path(name))
                            .out()),
                    JSON.readTree(json.out()),
                    name);
            // a repair leaves a bad bitmap as it is, as qemu-img's does
            Cli.Result repaired = both("check", "-r", "all", path(name));
            assertEquals(2, repaired.status(), repaired.toString());
            Cli.Result read = Cli.siphon("image", "convert", "-O", "raw", path(name), path(name + ".raw"));
            assertEquals(1, read.status(), read.toString());
            assertTrue(read.err().contains("L2 entry " + damage[0] + " of the table at"), read.err());
        }
    }

    @Test
    void measureAmendAndConvertAsQemuImg() throws Exception {
        images();
        for (String image : List.of(path("clone.qcow2"), path("alone.qcow2"))) {
            both("measure", "-O", "qcow2", "-o", "extended_l2=on", image);
            both("measure", "--output=json", "-O", "qcow2", "-o", "extended_l2=on,cluster_size=16k", image);
        }
        both("measure", "-O", "qcow2", "-o", "extended_l2=on", "--size", "10G");
        // extended_l2 is create-only, and such an image cannot go back to compat 0.10 (qemu-img's
        // refusals, in its order: the refcount width first; the features without the compression type)
        qemuImgOk("create", "-f", "qcow2", "-o", "extended_l2=on,compression_type=zstd", path("z.qcow2"), "1M");
        qemuImgOk("create", "-f", "qcow2", "-o", "extended_l2=on,refcount_bits=8", path("r8.qcow2"), "1M");
        for (String image : List.of("alone.qcow2", "z.qcow2", "r8.qcow2")) {
            Files.copy(dir.resolve(image), dir.resolve("q-" + image));
            for (String option : List.of("extended_l2=off", "extended_l2=on", "compat=0.10")) {
                Cli.Result ours = Cli.siphon("image", "amend", "-o", option, path(image));
                Cli.Result theirs = Cli.qemuImg(dir, "amend", "-o", option, path("q-" + image));
                assertEquals(theirs.status(), ours.status(), option + ": " + ours);
                assertEquals(
                        theirs.err().replaceFirst("^qemu-img: ", ""),
                        ours.err().replaceFirst("^siphon: ", ""),
                        image + " " + option);
            }
        }
        Cli.Result convert = Cli.siphon(
                "image", "convert", "-O", "qcow2", "-o", "extended_l2=on", path("clone.qcow2"), path("flat.qcow2"));
        assertEquals(0, convert.status(), convert.toString());
        List<String> packing = new ArrayList<>(List.of("image convert -c -O qcow2 -o".split(" ")));
        packing.addAll(List.of("extended_l2=on,cluster_size=16k", path("clone.qcow2"), path("packed.qcow2")));
        Cli.Result compressed = Cli.siphon(packing.toArray(String[]::new));
        assertEquals(0, compressed.status(), compressed.toString());
        for (String made : List.of("flat.qcow2", "packed.qcow2")) {
            assertEquals(0, Cli.qemuImg(dir, "check", path(made)).status(), made);
            assertEquals(
                    0,
                    Cli.qemuImg(dir, "compare", path("clone.qcow2"), path(made)).status(),
                    made);
            String info = Cli.qemuImg(dir, "info", "--output=json", path(made)).out();
            assertTrue(
                    JSON.readTree(info).at("/format-specific/data/extended-l2").asBoolean(), info);
        }
        Cli.Result toRaw = Cli.siphon("image", "convert", "-O", "raw", path("packed.qcow2"), path("packed.raw"));
        assertEquals(0, toRaw.status(), toRaw.toString());
        assertEquals(
                0,
                Cli.qemuImg(dir, "compare", "-F", "raw", path("clone.qcow2"), path("packed.raw"))
                        .status());
    }

    @Test
    void resizeGrowsAndShrinksAsQemuImg() throws Exception {
        images();
        Files.copy(dir.resolve("alone.qcow2"), dir.resolve("q.qcow2"));
        for (String[] size : new String[][] {{"6M"}, {"--shrink", "3147264"}, {"--shrink", "1M"}}) {
            List<String> args = new ArrayList<>(List.of("resize"));
            args.addAll(List.of(size).subList(0, size.length - 1));
            List<String> theirs = new ArrayList<>(args);
            theirs.addAll(List.of(path("q.qcow2"), size[size.length - 1]));
            List<String> ours = new ArrayList<>(List.of("image"));
            ours.addAll(args);
            ours.addAll(List.of(path("alone.qcow2"), size[size.length - 1]));
            qemuImgOk(theirs.toArray(String[]::new));
            Cli.Result resized = Cli.siphon(ours.toArray(String[]::new));
            assertEquals(0, resized.status(), resized.toString());
            assertEquals(0, Cli.qemuImg(dir, "check", path("alone.qcow2")).status());
            Cli.Result compare = Cli.qemuImg(dir, "compare", "-s", path("q.qcow2"), path("alone.qcow2"));
            assertEquals(0, compare.status(), String.join(" ", ours) + ": " + compare);
        }
    }

    /** rebase, commit and internal snapshots on a clone with subclusters, each result checked by qemu-img. */
    @Test
    void rebaseCommitAndSnapshotKeepWhatTheImageReads() throws Exception {
        images();
        qemuImgOk("convert", "-O", "raw", path("clone.qcow2"), path("before.raw"));
        qemuImgOk("create", "-f", "qcow2", path("other.qcow2"), "4M");
        Cli.qemuIo(dir, "qcow2", "other.qcow2", "write -P 0x55 0 4M");
        Cli.Result rebase = Cli.siphon("image", "rebase", "-b", "other.qcow2", "-F", "qcow2", path("clone.qcow2"));
        assertEquals(0, rebase.status(), rebase.toString());
        assertReadsAsBefore("clone.qcow2");

        Cli.Result snapshot = Cli.siphon("image", "snapshot", "-c", "one", path("clone.qcow2"));
        assertEquals(0, snapshot.status(), snapshot.toString());
        assertTrue(Cli.qemuImg(dir, "snapshot", "-l", path("clone.qcow2")).out().contains("one"));
        Cli.qemuIo(dir, "qcow2", "clone.qcow2", "write -P 0x66 8192 2048");
        Cli.Result apply = Cli.siphon("image", "snapshot", "-a", "one", path("clone.qcow2"));
        assertEquals(0, apply.status(), apply.toString());
        assertReadsAsBefore("clone.qcow2");
        Cli.Result delete = Cli.siphon("image", "snapshot", "-d", "one", path("clone.qcow2"));
        assertEquals(0, delete.status(), delete.toString());
        assertReadsAsBefore("clone.qcow2");

        Cli.Result commit = Cli.siphon("image", "commit", path("clone.qcow2"));
        assertEquals(0, commit.status(), commit.toString());
        assertEquals(0, Cli.qemuImg(dir, "check", path("other.qcow2")).status());
        assertEquals(
                0,
                Cli.qemuImg(dir, "compare", "-F", "raw", path("other.qcow2"), path("before.raw"))
                        .status());
        assertReadsAsBefore("clone.qcow2");
    }

    /** A commit writes into a base with subclusters through the same write path: qemu-img checks and compares it. */
    @Test
    void commitIntoABaseWithSubclusters() throws Exception {
        images();
        qemuImgOk("create", "-f", "qcow2", "-b", "clone.qcow2", "-F", "qcow2", path("top.qcow2"));
        Cli.qemuIo(
                dir, "qcow2", "top.qcow2", "write -P 0x77 3000 5000", "write -z 66000 1000", "write -P 0x78 2M 70000");
        qemuImgOk("convert", "-O", "raw", path("top.qcow2"), path("before.raw"));
        Cli.Result commit = Cli.siphon("image", "commit", path("top.qcow2"));
        assertEquals(0, commit.status(), commit.toString());
        assertReadsAsBefore("clone.qcow2");
        assertReadsAsBefore("top.qcow2");
    }

    private void assertReadsAsBefore(String image) throws Exception {
        Cli.Result check = Cli.qemuImg(dir, "check", path(image));
        assertEquals(0, check.status(), check.toString());
        Cli.Result compare = Cli.qemuImg(dir, "compare", "-F", "raw", path(image), path("before.raw"));
        assertEquals(0, compare.status(), compare.toString());
    }

    private static long readLong(FileChannel channel, long offset) throws Exception {
        ByteBuffer buffer = ByteBuffer.allocate(8);
        channel.read(buffer, offset);
        return buffer.getLong(0);
    }
}
