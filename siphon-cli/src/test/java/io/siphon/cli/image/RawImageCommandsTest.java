package io.siphon.cli.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.siphon.cli.Cli;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The image commands on raw images (the format every build has), side by side with qemu-img. */
@Tag("interop")
class RawImageCommandsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private String file(String name) {
        return dir.resolve(name).toString();
    }

    /** A raw file with data everywhere (no holes), so that every reader calls all of it data. */
    private String filledRaw(String name, String size, String pattern) throws Exception {
        assertEquals(0, Cli.qemuImg(dir, "create", "-f", "raw", name, size).status());
        Cli.qemuIo(dir, "raw", name, "write -P " + pattern + " 0 " + size);
        return file(name);
    }

    @Test
    void createPrintsQemuImgsFormattingLineAndMakesTheFile() throws Exception {
        Cli.Result siphon = Cli.siphon("image", "create", "-f", "raw", file("a.raw"), "1.5M");
        Cli.Result qemu = Cli.qemuImg(dir, "create", "-f", "raw", file("b.raw"), "1.5M");
        assertEquals(0, siphon.status(), siphon.err());
        assertEquals(qemu.out().replace("b.raw", "a.raw"), siphon.out());
        assertEquals(Files.size(dir.resolve("b.raw")), Files.size(dir.resolve("a.raw")));
        assertEquals(
                "",
                Cli.qemuImg(dir, "compare", "-f", "raw", "-F", "raw", "a.raw", "b.raw")
                        .err());
    }

    @Test
    void createErrorsAreOneLine() {
        Cli.Result noSize = Cli.siphon("image", "create", "-f", "raw", file("c.raw"));
        assertEquals(1, noSize.status());
        assertEquals("siphon: " + file("c.raw") + ": image creation needs a size\n", noSize.err());

        Cli.Result badSize = Cli.siphon("image", "create", "-f", "raw", file("c.raw"), "12Q");
        assertEquals(1, badSize.status());
        assertTrue(badSize.err().startsWith("siphon: invalid size '12Q'"), badSize.err());
        assertEquals(1, badSize.err().lines().count());

        Cli.Result unknown = Cli.siphon("image", "create", "-f", "vmdk9", file("c.raw"), "1M");
        assertEquals(1, unknown.status());
        assertTrue(unknown.err().startsWith("siphon: format: unknown format 'vmdk9'"), unknown.err());

        Cli.Result backingForRaw = Cli.siphon("image", "create", "-f", "raw", "-b", "x", file("c.raw"), "1M");
        assertEquals(1, backingForRaw.status());
        assertFalse(Files.exists(dir.resolve("c.raw")));
    }

    @Test
    void infoMatchesQemuImgInBothLayouts() throws Exception {
        String raw = filledRaw("disk.raw", "3M", "0x11");
        Cli.Result human = Cli.siphon("image", "info", "-f", "raw", raw);
        Cli.Result qemuHuman = Cli.qemuImg(dir, "info", "-f", "raw", raw);
        assertEquals(0, human.status(), human.err());
        assertEquals(qemuHuman.out(), human.out());

        JsonNode ours = JSON.readTree(
                Cli.siphon("image", "info", "-f", "raw", "--output=json", raw).out());
        JsonNode theirs = JSON.readTree(
                Cli.qemuImg(dir, "info", "-f", "raw", "--output=json", raw).out());
        assertEquals(theirs, ours);

        JsonNode chain = JSON.readTree(Cli.siphon("image", "info", "-f", "raw", "--output=json", "--backing-chain", raw)
                .out());
        JsonNode qemuChain =
                JSON.readTree(Cli.qemuImg(dir, "info", "-f", "raw", "--output=json", "--backing-chain", raw)
                        .out());
        assertEquals(qemuChain, chain);
    }

    @Test
    void infoRefusesToGuessRaw() {
        Cli.Result result = Cli.siphon("image", "info", file("missing.raw"));
        assertEquals(1, result.status());
        assertEquals(1, result.err().lines().count(), result.err());
        assertTrue(result.err().startsWith("siphon: " + file("missing.raw")), result.err());
    }

    @Test
    void checkOnRawExitsWith63AsQemuImg() throws Exception {
        String raw = filledRaw("disk.raw", "1M", "0x22");
        Cli.Result siphon = Cli.siphon("image", "check", "-f", "raw", raw);
        Cli.Result qemu = Cli.qemuImg(dir, "check", "-f", "raw", raw);
        assertEquals(63, qemu.status());
        assertEquals(qemu.status(), siphon.status());
        assertTrue(siphon.err().contains("does not support checks"), siphon.err());
        assertEquals(1, siphon.err().lines().count());
    }

    @Test
    void checkRefusesBadRepairMode() {
        Cli.Result result = Cli.siphon("image", "check", "-r", "bogus", "-f", "raw", file("x.raw"));
        assertEquals(1, result.status());
        assertTrue(result.err().startsWith("siphon: Invalid value for option '-r'"), result.err());
        assertTrue(result.err().contains("Try 'siphon image check --help'"), result.err());
    }

    @Test
    void mapAgreesWithQemuImgOnAFullRawFile() throws Exception {
        String raw = filledRaw("disk.raw", "5M", "0x33");
        Cli.Result json = Cli.siphon("image", "map", "-f", "raw", "--output=json", raw);
        Cli.Result qemuJson = Cli.qemuImg(dir, "map", "-f", "raw", "--output=json", raw);
        assertEquals(0, json.status(), json.err());
        assertEquals(JSON.readTree(qemuJson.out()), JSON.readTree(json.out()));
        assertEquals(qemuJson.out(), json.out());
        assertEquals(
                Cli.qemuImg(dir, "map", "-f", "raw", raw).out(),
                Cli.siphon("image", "map", "-f", "raw", raw).out());
    }

    @Test
    void mapAgreesWithQemuImgOnASparseRawFile() throws Exception {
        assertEquals(
                0, Cli.qemuImg(dir, "create", "-f", "raw", "sparse.raw", "9M").status());
        Cli.qemuIo(dir, "raw", "sparse.raw", "write -P 0x66 1M 512k", "write -P 0 3M 1M", "write -P 0x67 8M 4k");
        for (String output : new String[] {"--output=json", "--output=human"}) {
            Cli.Result qemu = Cli.qemuImg(dir, "map", "-f", "raw", output, file("sparse.raw"));
            Cli.Result siphon = Cli.siphon("image", "map", "-f", "raw", output, file("sparse.raw"));
            assertEquals(qemu.out(), siphon.out(), output);
        }
    }

    @Test
    void compareExitCodesMatchQemuImg() throws Exception {
        String a = filledRaw("a.raw", "2M", "0x44");
        String same = filledRaw("same.raw", "2M", "0x44");
        String other = filledRaw("other.raw", "2M", "0x44");
        Cli.qemuIo(dir, "raw", "other.raw", "write -P 0x45 1536k 1k");
        String zeroTail = filledRaw("zerotail.raw", "3M", "0");
        Cli.qemuIo(dir, "raw", "zerotail.raw", "write -P 0x44 0 2M");
        String dataTail = filledRaw("datatail.raw", "3M", "0x44");

        String[][] pairs = {{a, same}, {a, other}, {a, zeroTail}, {zeroTail, a}, {a, dataTail}, {a, file("none.raw")}};
        for (String[] pair : pairs) {
            for (boolean strict : new boolean[] {false, true}) {
                String[] args = strict
                        ? new String[] {"compare", "-s", "-f", "raw", "-F", "raw", pair[0], pair[1]}
                        : new String[] {"compare", "-f", "raw", "-F", "raw", pair[0], pair[1]};
                Cli.Result qemu = Cli.qemuImg(dir, args);
                String[] siphonArgs = new String[args.length + 1];
                siphonArgs[0] = "image";
                System.arraycopy(args, 0, siphonArgs, 1, args.length);
                Cli.Result siphon = Cli.siphon(siphonArgs);
                String what = String.join(" ", args);
                assertEquals(qemu.status(), siphon.status(), what + ": " + siphon);
                if (qemu.status() < 2) {
                    assertEquals(qemu.out(), siphon.out(), what);
                } else {
                    assertEquals(1, siphon.err().lines().count(), siphon.err());
                }
            }
        }
    }

    @Test
    void compareUsageErrorsExitWith2() {
        Cli.Result result = Cli.siphon("image", "compare", file("only-one.raw"));
        assertEquals(2, result.status());
        assertTrue(result.err().startsWith("siphon: Missing required parameter"), result.err());
    }

    @Test
    void rebaseOfRawIsRefusedInOneLine() throws Exception {
        String raw = filledRaw("disk.raw", "1M", "0x55");
        Cli.Result result = Cli.siphon("image", "rebase", "-f", "raw", "-u", "-b", "base.raw", "-F", "raw", raw);
        assertEquals(1, result.status());
        assertEquals(1, result.err().lines().count(), result.err());
        assertTrue(result.err().contains("raw images have no backing file"), result.err());
    }

    @Test
    void debugPrintsTheStackTrace() {
        Cli.Result plain = Cli.siphon("image", "info", "-f", "raw", file("missing.raw"));
        Cli.Result debug = Cli.siphon("image", "info", "--debug", "-f", "raw", file("missing.raw"));
        assertFalse(plain.err().contains("\tat "), plain.err());
        assertTrue(debug.err().contains("\tat io.siphon"), debug.err());
        assertEquals(plain.status(), debug.status());
    }
}
