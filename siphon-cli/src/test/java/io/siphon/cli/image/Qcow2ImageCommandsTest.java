package io.siphon.cli.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.siphon.cli.Cli;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The image commands on qcow2 chains made by qemu-img and qemu-io, output compared with qemu-img's. */
@Tag("interop")
class Qcow2ImageCommandsTest extends ImageFilesTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long L2_ENTRY_OFFSET_MASK = 0x00fffffffffffe00L;

    private static String[] image(String... args) {
        String[] all = new String[args.length + 1];
        all[0] = "image";
        System.arraycopy(args, 0, all, 1, args.length);
        return all;
    }

    /** Runs the same image command through siphon and qemu-img; both must exit alike. */
    private Cli.Result[] both(String... args) throws Exception {
        Cli.Result siphon = Cli.siphon(image(args));
        Cli.Result qemu = Cli.qemuImg(dir, args);
        assertEquals(
                qemu.status(), siphon.status(), String.join(" ", args) + "\nsiphon: " + siphon + "\nqemu: " + qemu);
        return new Cli.Result[] {siphon, qemu};
    }

    @Test
    void createPrintsWhatQemuImgPrintsAndQemuImgAcceptsTheImage() throws Exception {
        qemuImgOk("create", "-f", "raw", path("base.raw"), "10M");
        String[][] cases = {
            {"-f", "qcow2"},
            {"-f", "qcow2", "-o", "cluster_size=4096,compat=0.10"},
            {"-f", "qcow2", "-o", "cluster_size=64k", "-o", "lazy_refcounts=on"},
            {"-f", "qcow2", "-b", "base.raw", "-F", "raw"},
            {"-f", "qcow2", "-b", "base.raw", "-F", "raw", "-o", "compat=1.1,lazy_refcounts=on,refcount_bits=64"},
            {"-f", "qcow2", "-o", "cluster_size=2M,refcount_bits=1"},
            {"-f", "qcow2", "-o", "compression_type=zstd,extended_l2=off,preallocation=off"},
            {"-f", "qcow2", "-o", "extended_l2=on"},
            {"-f", "qcow2", "-o", "extended_l2=on,cluster_size=16k,compression_type=zstd"},
            {"-f", "qcow2", "-b", "base.raw", "-F", "raw", "-o", "extended_l2=on,preallocation=metadata"},
        };
        int n = 0;
        for (String[] options : cases) {
            n++;
            List<String> siphonArgs = new ArrayList<>(List.of(options));
            List<String> qemuArgs = new ArrayList<>(List.of(options));
            siphonArgs.addAll(List.of(path("s" + n + ".qcow2")));
            qemuArgs.addAll(List.of(path("q" + n + ".qcow2")));
            if (!siphonArgs.contains("-b")) {
                siphonArgs.add("3G");
                qemuArgs.add("3G");
            }
            siphonArgs.addFirst("create");
            qemuArgs.addFirst("create");
            Cli.Result[] results = both(qemuArgs.toArray(String[]::new));
            Cli.Result siphon = Cli.siphon(image(siphonArgs.toArray(String[]::new)));
            assertEquals(0, siphon.status(), siphon.err());
            assertEquals(results[1].out().replace("q" + n + ".qcow2", "s" + n + ".qcow2"), siphon.out());
            Cli.Result check = Cli.qemuImg(dir, "check", path("s" + n + ".qcow2"));
            assertEquals(0, check.status(), siphonArgs + ": " + check);
            JsonNode ours = JSON.readTree(Cli.qemuImg(dir, "info", "--output=json", path("s" + n + ".qcow2"))
                    .out());
            JsonNode theirs = JSON.readTree(Cli.qemuImg(dir, "info", "--output=json", path("q" + n + ".qcow2"))
                    .out());
            for (String field : List.of("virtual-size", "cluster-size", "format-specific", "backing-filename")) {
                assertEquals(theirs.get(field), ours.get(field), siphonArgs + " " + field);
            }
        }
    }

    /** qemu-img refuses these too; siphon checks every option before it prints the Formatting line. */
    @Test
    void createRefusesBadOptionsBeforePrintingAnything() throws Exception {
        String[][] cases = {
            {"-f", "vmdk9"},
            {"-f", "qcow2", "-o", "foo=1"},
            {"-f", "qcow2", "-o", "cluster_size=3000"},
            {"-f", "qcow2", "-o", "compat=0.9"},
            {"-f", "qcow2", "-o", "lazy_refcounts=maybe"},
            {"-f", "qcow2", "-o", "refcount_bits=3"},
            {"-f", "qed", "-o", "cluster_size=3000"},
            {"-f", "qed", "-o", "bogus=1"},
            {"-f", "raw", "-o", "bogus=1"},
            {"-f", "qcow2", "-o", "compression_type=lz4"},
            {"-f", "qcow2", "-o", "compression_type=zstd,compat=0.10"},
            {"-f", "qcow2", "-o", "preallocation=bogus"},
            {"-f", "qcow2", "-o", "extended_l2=on,cluster_size=8k"},
            {"-f", "qcow2", "-o", "extended_l2=on,compat=0.10"},
            {"-f", "qcow2", "-o", "extended_l2=maybe"},
        };
        for (String[] options : cases) {
            List<String> args = new ArrayList<>(List.of("create"));
            args.addAll(List.of(options));
            List<String> qemuArgs = new ArrayList<>(args);
            args.addAll(List.of(path("bad.img"), "1M"));
            qemuArgs.addAll(List.of(path("qemu-bad.img"), "1M"));
            assertEquals(1, Cli.qemuImg(dir, qemuArgs.toArray(String[]::new)).status(), qemuArgs.toString());
            Cli.Result siphon = Cli.siphon(image(args.toArray(String[]::new)));
            assertEquals(1, siphon.status(), args + ": " + siphon);
            assertEquals("", siphon.out(), args.toString());
            assertEquals(1, siphon.err().lines().count(), args + ": " + siphon.err());
            assertTrue(!Files.exists(dir.resolve("bad.img")), args.toString());
        }
    }

    /** -o help lists, in qemu-img's layout, only options qemu-img has too. */
    @Test
    void createOptionsHelpListsWhatSiphonTakes() throws Exception {
        for (String format : List.of("qcow2", "qed", "raw")) {
            Cli.Result ours = Cli.siphon("image", "create", "-f", format, "-o", "help", path("x"));
            Cli.Result theirs = Cli.qemuImg(dir, "create", "-f", format, "-o", "help", path("x"));
            assertEquals(0, ours.status(), ours.toString());
            assertTrue(ours.out().startsWith("Supported options:\n"), ours.out());
            List<String> qemuLines = theirs.out().lines().toList();
            for (String line : ours.out().lines().skip(1).toList()) {
                String name = line.substring(0, line.indexOf(" - "));
                assertTrue(qemuLines.stream().anyMatch(q -> q.startsWith(name + " - ")), format + ": " + line);
            }
            assertTrue(!Files.exists(dir.resolve("x")));
        }
    }

    @Test
    void createTakesTheBackingSizeAndResolvesTheNameNextToTheImage() throws Exception {
        Files.createDirectories(dir.resolve("vm"));
        qemuImgOk("create", "-f", "qcow2", path("template.qcow2"), "7M");
        Cli.Result result = Cli.siphon(
                "image", "create", "-f", "qcow2", "-b", "../template.qcow2", "-F", "qcow2", path("vm/clone.qcow2"));
        assertEquals(0, result.status(), result.err());
        assertTrue(
                result.out().contains(" size=7340032 backing_file=../template.qcow2 backing_fmt=qcow2 "), result.out());
        JsonNode info = JSON.readTree(Cli.qemuImg(dir, "info", "--output=json", path("vm/clone.qcow2"))
                .out());
        assertEquals(7340032, info.get("virtual-size").asLong());
        assertEquals("../template.qcow2", info.get("backing-filename").asText());

        Cli.Result missing =
                Cli.siphon("image", "create", "-f", "qcow2", "-b", "nothere.qcow2", "-F", "qcow2", path("x.qcow2"));
        assertEquals(1, missing.status());
        assertEquals(1, missing.err().lines().count(), missing.err());
        assertTrue(missing.err().contains("nothere.qcow2"), missing.err());
    }

    /** base.raw <- mid.qcow2 (relative name, other directory) <- top.qcow2, each written by qemu-io. */
    private String chain(long seed) throws Exception {
        System.out.println("chain seed " + seed);
        Random random = new Random(seed);
        Files.createDirectories(dir.resolve("a/b"));
        qemuImgOk("create", "-f", "raw", path("a/base.raw"), "12M");
        qemuImgOk("create", "-f", "qcow2", "-b", "../base.raw", "-F", "raw", path("a/b/mid.qcow2"));
        qemuImgOk(
                "create",
                "-f",
                "qcow2",
                "-o",
                "cluster_size=4k",
                "-b",
                "b/mid.qcow2",
                "-F",
                "qcow2",
                path("a/top.qcow2"),
                "16M");
        writeRandomly(random, "raw", "a/base.raw", 12);
        writeRandomly(random, "qcow2", "a/b/mid.qcow2", 12);
        writeRandomly(random, "qcow2", "a/top.qcow2", 16);
        return path("a/top.qcow2");
    }

    private void writeRandomly(Random random, String format, String file, int mib) throws Exception {
        List<String> commands = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            long offset = random.nextInt(mib * 256) * 4096L;
            long length = Math.min((1 + random.nextInt(64)) * 4096L, mib * (1L << 20) - offset);
            commands.add(
                    switch (random.nextInt(4)) {
                        case 0 -> "write -z " + offset + " " + length;
                        case 1 ->
                            format.equals("raw")
                                    ? "write -P 0 " + offset + " " + length
                                    : "discard " + offset + " " + length;
                        default -> "write -P " + (1 + random.nextInt(255)) + " " + offset + " " + length;
                    });
        }
        Cli.qemuIo(dir, format, file, commands.toArray(String[]::new));
    }

    @Test
    void infoAndMapMatchQemuImgOnAChain() throws Exception {
        long seed = System.nanoTime();
        String top = chain(seed);
        for (String[] args : new String[][] {
            {"info", top},
            {"info", "--backing-chain", top},
            {"info", "--output=json", top},
            {"info", "--output=json", "--backing-chain", top},
            {"map", top},
            {"map", "--output=json", top},
            {"map", "--output=json", path("a/b/mid.qcow2")},
        }) {
            Cli.Result[] results = both(args);
            assertEquals(results[1].out(), results[0].out(), "seed " + seed + ": " + String.join(" ", args));
        }
    }

    /** Internal snapshots and persistent bitmaps made by qemu-img, on an image with a backing file. */
    @Test
    void infoShowsSnapshotsAndBitmapsAsQemuImgDoes() throws Exception {
        qemuImgOk("create", "-f", "qcow2", path("base.qcow2"), "10M");
        Cli.qemuIo(dir, "qcow2", "base.qcow2", "write -P 0x5a 0 64k");
        qemuImgOk("snapshot", "-c", "first", path("base.qcow2"));
        qemuImgOk("snapshot", "-c", "second one", path("base.qcow2"));
        qemuImgOk("bitmap", "--add", path("base.qcow2"), "b0");
        qemuImgOk("bitmap", "--add", "-g", "128k", "--disable", path("base.qcow2"), "b1");
        qemuImgOk("create", "-f", "qcow2", "-b", "base.qcow2", "-F", "qcow2", path("top.qcow2"));
        qemuImgOk("snapshot", "-c", "s1", path("top.qcow2"));
        for (String[] args : new String[][] {
            {"info", path("base.qcow2")},
            {"info", "--output=json", path("base.qcow2")},
            {"info", "--backing-chain", path("top.qcow2")},
            {"info", "--output=json", "--backing-chain", path("top.qcow2")},
        }) {
            Cli.Result[] results = both(args);
            assertEquals(results[1].out(), results[0].out(), String.join(" ", args));
        }
    }

    @Test
    void mapOfARangeMatchesQemuImg() throws Exception {
        long seed = System.nanoTime();
        String top = chain(seed);
        for (String[] range : new String[][] {
            {"--start-offset", "65536", "--max-length", "3M"},
            {"--start-offset", "1k", "--max-length", "100000"},
            {"--start-offset", "5M"},
            {"--max-length", "7340033"},
            {"--start-offset", "15M", "--max-length", "8M"},
            {"--start-offset", "20M"},
            {"--start-offset", "1M", "--max-length", "0"},
        }) {
            for (String layout : List.of("--output=human", "--output=json")) {
                List<String> args = new ArrayList<>(List.of("map", layout));
                args.addAll(List.of(range));
                args.add(top);
                Cli.Result[] results = both(args.toArray(String[]::new));
                assertEquals(results[1].out(), results[0].out(), "seed " + seed + ": " + args);
            }
        }
        Cli.Result[] bad = both("map", "--start-offset", "-5", top);
        assertEquals(1, bad[0].err().lines().count(), bad[0].err());
    }

    @Test
    void mapOfCompressedClustersMatchesQemuImg() throws Exception {
        String top = chain(System.nanoTime());
        qemuImgOk("convert", "-c", "-O", "qcow2", top, path("compressed.qcow2"));
        Cli.Result[] json = both("map", "--output=json", path("compressed.qcow2"));
        assertEquals(json[1].out(), json[0].out());
        // the human layout cannot show a compressed range: both fail after the header
        Cli.Result[] human = both("map", path("compressed.qcow2"));
        assertEquals(1, human[0].status());
        assertEquals(human[1].out(), human[0].out());
        assertEquals(1, human[0].err().lines().count(), human[0].err());
    }

    @Test
    void compareAgreesWithQemuImg() throws Exception {
        long seed = System.nanoTime();
        String top = chain(seed);
        qemuImgOk("convert", "-O", "raw", top, path("flat.raw"));
        qemuImgOk("convert", "-O", "qcow2", top, path("flat.qcow2"));
        both("compare", top, "-F", "raw", path("flat.raw"));
        both("compare", top, path("flat.qcow2"));
        Cli.qemuIo(dir, "qcow2", "flat.qcow2", "write -P 0x77 5000k 1k");
        Cli.Result[] different = both("compare", top, path("flat.qcow2"));
        assertEquals(1, different[0].status());
        assertEquals(different[1].out(), different[0].out(), "seed " + seed);
        for (String[] strict : new String[][] {
            {"compare", "-s", top, path("flat.qcow2")},
            {"compare", "-s", path("flat.qcow2"), top},
            {"compare", "-s", "-F", "raw", top, path("flat.raw")},
            {"compare", "-s", top, top},
        }) {
            Cli.Result[] results = both(strict);
            assertEquals(results[1].out(), results[0].out(), "seed " + seed + ": " + String.join(" ", strict));
        }
        Cli.Result[] error = both("compare", top, path("nothere.qcow2"));
        assertEquals(2, error[0].status());
    }

    @Test
    void checkReportsLeaksAndCorruptionsWithQemuImgsExitCodes() throws Exception {
        qemuImgOk("create", "-f", "qcow2", path("clean.qcow2"), "10M");
        Cli.qemuIo(dir, "qcow2", "clean.qcow2", "write 1M 64k", "write 0 64k", "write 3M 64k");
        Files.copy(dir.resolve("clean.qcow2"), dir.resolve("leaky.qcow2"));
        Files.copy(dir.resolve("clean.qcow2"), dir.resolve("corrupt.qcow2"));
        try (FileChannel leaky =
                FileChannel.open(dir.resolve("leaky.qcow2"), StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            long l2 = readLong(leaky, readLong(leaky, 40)) & L2_ENTRY_OFFSET_MASK;
            leaky.write(ByteBuffer.allocate(8), l2 + 16 * 8); // forget guest 1M: its cluster leaks
        }
        try (FileChannel corrupt =
                FileChannel.open(dir.resolve("corrupt.qcow2"), StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            long l2 = readLong(corrupt, readLong(corrupt, 40)) & L2_ENTRY_OFFSET_MASK;
            long data = readLong(corrupt, l2 + 48 * 8) & L2_ENTRY_OFFSET_MASK;
            long refcountBlock = readLong(corrupt, readLong(corrupt, 48));
            corrupt.write(ByteBuffer.allocate(2), refcountBlock + data / 65536 * 2); // in use, counted 0
        }
        for (String name : List.of("clean.qcow2", "leaky.qcow2")) {
            Cli.Result[] human = both("check", path(name));
            assertEquals(human[1].out(), human[0].out(), name);
            Cli.Result[] json = both("check", "--output=json", path(name));
            assertEquals(JSON.readTree(json[1].out()), JSON.readTree(json[0].out()), name);
        }
        // qemu-img counts this corruption twice (refcount and OFLAG_COPIED); the exit status is what must agree
        Cli.Result[] corrupt = both("check", path("corrupt.qcow2"));
        assertTrue(corrupt[0].out().contains(" errors were found on the image."), corrupt[0].out());
        assertTrue(corrupt[0].err().contains("refcount"), corrupt[0].err());
        assertEquals(3, Cli.siphon("image", "check", path("leaky.qcow2")).status());
        assertEquals(2, Cli.siphon("image", "check", path("corrupt.qcow2")).status());

        Cli.Result repaired = Cli.siphon("image", "check", "-r", "leaks", path("leaky.qcow2"));
        assertEquals(0, repaired.status(), repaired.toString());
        assertTrue(
                repaired.out()
                        .startsWith(
                                "The following inconsistencies were found and repaired:\n\n    1 leaked clusters\n"),
                repaired.out());
        assertEquals(0, Cli.qemuImg(dir, "check", path("leaky.qcow2")).status());
    }

    /**
     * Damaged images made from one qemu-io-written image: a leaked cluster at the end of the file,
     * a refcount of 0 under a data cluster, and two truncations (the L2 table gone; the data gone).
     * siphon and qemu-img print the same report, the same error lines and exit alike.
     */
    @Test
    void checkOfDamagedImagesPrintsWhatQemuImgPrints() throws Exception {
        qemuImgOk("create", "-f", "qcow2", path("made.qcow2"), "10M");
        Cli.qemuIo(dir, "qcow2", "made.qcow2", "write 1M 64k", "write 0 64k", "write 3M 64k");
        long l2;
        long lastData;
        long refcountBlock;
        try (FileChannel made = FileChannel.open(dir.resolve("made.qcow2"), StandardOpenOption.READ)) {
            l2 = readLong(made, readLong(made, 40)) & L2_ENTRY_OFFSET_MASK;
            lastData = readLong(made, l2 + 48 * 8) & L2_ENTRY_OFFSET_MASK;
            refcountBlock = readLong(made, readLong(made, 48));
            assertEquals(Files.size(dir.resolve("made.qcow2")), lastData + 65536, "guest 3M is the last cluster");
        }
        damaged("leak-at-end.qcow2", file -> file.write(ByteBuffer.allocate(8), l2 + 48 * 8));
        damaged(
                "refcount-zero.qcow2",
                file -> file.write(ByteBuffer.allocate(2), refcountBlock + lastData / 65536 * 2));
        damaged("l2-gone.qcow2", file -> file.truncate(l2));
        damaged("data-gone.qcow2", file -> file.truncate(l2 + 65536));
        for (String name : List.of("leak-at-end.qcow2", "refcount-zero.qcow2", "l2-gone.qcow2", "data-gone.qcow2")) {
            Cli.Result[] human = both("check", path(name));
            assertEquals(human[1].out(), human[0].out(), name);
            assertEquals(human[1].err(), human[0].err(), name);
            assertTrue(human[0].status() == 2 || human[0].status() == 3, name + ": " + human[0]);
            Cli.Result[] json = both("check", "--output=json", path(name));
            assertEquals(JSON.readTree(json[1].out()), JSON.readTree(json[0].out()), name);
            for (String[] quiet :
                    new String[][] {{"check", "-q", path(name)}, {"check", "-q", "--output=json", path(name)}}) {
                Cli.Result[] results = both(quiet);
                assertEquals("", results[0].out(), name);
                assertEquals(results[1].err(), results[0].err(), name);
            }
        }
    }

    private interface Damage {
        void apply(FileChannel file) throws IOException;
    }

    private void damaged(String name, Damage damage) throws IOException {
        Files.copy(dir.resolve("made.qcow2"), dir.resolve(name));
        try (FileChannel file = FileChannel.open(dir.resolve(name), StandardOpenOption.WRITE)) {
            damage.apply(file);
        }
    }

    private static long readLong(FileChannel channel, long offset) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(8);
        channel.read(buffer, offset);
        return buffer.flip().getLong();
    }

    @Test
    void safeRebaseKeepsWhatTheImageReads() throws Exception {
        long seed = System.nanoTime();
        String top = chain(seed);
        qemuImgOk("convert", "-O", "raw", top, path("before.raw"));

        Cli.Result rebase = Cli.siphon("image", "rebase", "-b", "base.raw", "-F", "raw", top);
        assertEquals(0, rebase.status(), rebase.toString());
        assertReadsAsBefore(top, seed, Optional.of("base.raw"));

        Cli.Result detach = Cli.siphon("image", "rebase", "-b", "", top);
        assertEquals(0, detach.status(), detach.toString());
        assertReadsAsBefore(top, seed, Optional.empty());
    }

    /** {@code top} passes qemu-img check, reads as before.raw did, and has {@code backing} (or none). */
    private void assertReadsAsBefore(String top, long seed, Optional<String> backing) throws Exception {
        JsonNode info =
                JSON.readTree(Cli.qemuImg(dir, "info", "--output=json", top).out());
        assertEquals(backing, Optional.ofNullable(info.get("backing-filename")).map(JsonNode::asText), info.toString());
        assertEquals(0, Cli.qemuImg(dir, "check", top).status());
        Cli.Result same = Cli.qemuImg(dir, "compare", "-F", "raw", top, path("before.raw"));
        assertEquals(0, same.status(), "seed " + seed + ": " + same);
    }

    @Test
    void pullKeepsWhatTheImageReadsAndDropsTheBacking() throws Exception {
        long seed = System.nanoTime();
        String top = chain(seed);
        qemuImgOk("convert", "-O", "raw", top, path("before.raw"));

        Cli.Result partial = Cli.siphon("image", "pull", "--base", path("a/base.raw"), "--keep-relative", top);
        assertEquals(0, partial.status(), partial.toString());
        assertReadsAsBefore(top, seed, Optional.of("base.raw"));
        JsonNode info =
                JSON.readTree(Cli.qemuImg(dir, "info", "--output=json", top).out());
        assertEquals("raw", info.get("backing-filename-format").asText());

        Cli.Result full = Cli.siphon("image", "pull", top);
        assertEquals(0, full.status(), full.toString());
        assertReadsAsBefore(top, seed, Optional.empty());

        Cli.Result badBase = Cli.siphon("image", "pull", "--base", path("before.raw"), top);
        assertEquals(1, badBase.status());
        assertEquals(1, badBase.err().lines().count(), badBase.err());
    }

    /** qemu-img's -p lines ("    (12.50/100%)\r"...), then what the command prints after them. */
    private static final java.util.regex.Pattern PROGRESS = java.util.regex.Pattern.compile(
            "((?: {4}\\(\\d{1,3}\\.\\d\\d/100%\\)\r)+)(.*)", java.util.regex.Pattern.DOTALL);

    private static String afterProgress(Cli.Result result) {
        java.util.regex.Matcher m = PROGRESS.matcher(result.out());
        assertTrue(m.matches(), result.out());
        assertTrue(m.group(1).startsWith("    (0.00/100%)\r"), result.out());
        return m.group(2);
    }

    @Test
    void compareAndRebaseShowQemuImgsProgress() throws Exception {
        long seed = System.nanoTime();
        String top = chain(seed);
        qemuImgOk("convert", "-O", "qcow2", top, path("flat.qcow2"));
        Cli.Result[] same = both("compare", "-p", top, path("flat.qcow2"));
        assertEquals(afterProgress(same[1]), afterProgress(same[0]), "seed " + seed);
        Cli.qemuIo(dir, "qcow2", "flat.qcow2", "write -P 0x77 9M 1k");
        Cli.Result[] different = both("compare", "-p", top, path("flat.qcow2"));
        assertEquals(afterProgress(different[1]), afterProgress(different[0]), "seed " + seed);
        qemuImgOk("convert", "-O", "raw", top, path("before.raw"));
        Cli.Result rebase = Cli.siphon("image", "rebase", "-p", "-b", "", top);
        assertEquals(0, rebase.status(), rebase.toString());
        assertEquals(
                "", afterProgress(rebase).replace("    (100.00/100%)\r", "").strip());
        assertTrue(rebase.out().endsWith("    (100.00/100%)\r    (100.00/100%)\r\n"), rebase.out());
        assertReadsAsBefore(top, seed, Optional.empty());
        Cli.Result quiet = Cli.siphon("image", "rebase", "-q", "-p", "-b", "", top);
        assertEquals(0, quiet.status(), quiet.toString());
        assertEquals("", quiet.out());
    }

    @Test
    void unsafeRebaseOnlyRewritesTheHeader() throws Exception {
        qemuImgOk("create", "-f", "qcow2", path("old.qcow2"), "4M");
        Cli.qemuIo(dir, "qcow2", "old.qcow2", "write -P 0x31 0 4M");
        qemuImgOk("create", "-f", "qcow2", "-b", "old.qcow2", "-F", "qcow2", path("top.qcow2"));
        Files.copy(dir.resolve("old.qcow2"), dir.resolve("renamed.qcow2"));
        long sizeBefore = Files.size(dir.resolve("top.qcow2"));
        Cli.Result result = Cli.siphon("image", "rebase", "-u", "-b", "renamed.qcow2", path("top.qcow2"));
        assertEquals(0, result.status(), result.toString());
        assertEquals(sizeBefore, Files.size(dir.resolve("top.qcow2")));
        JsonNode info = JSON.readTree(
                Cli.qemuImg(dir, "info", "--output=json", path("top.qcow2")).out());
        assertEquals("renamed.qcow2", info.get("backing-filename").asText());
        assertEquals("qcow2", info.get("backing-filename-format").asText());
        assertEquals(
                0,
                Cli.qemuImg(dir, "compare", path("top.qcow2"), path("old.qcow2"))
                        .status());
    }
}
