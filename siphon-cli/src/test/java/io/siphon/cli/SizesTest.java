package io.siphon.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class SizesTest {
    @ParameterizedTest
    @CsvSource({
        "0, 0",
        "512, 512",
        "1k, 1024",
        "1K, 1024",
        "64k, 65536",
        "1M, 1048576",
        "1.5M, 1572864",
        "1.25K, 1280",
        "1.0001K, 1024",
        "1.0005K, 1025",
        "1.1T, 1209462790554",
        "10G, 10737418240",
        "2T, 2199023255552",
        "1P, 1125899906842624",
        "7E, 8070450532247928832",
        "1b, 1",
        "1B, 1",
        "0x10, 16"
    })
    void parsesLikeQemuImg(String text, long bytes) {
        assertEquals(bytes, Sizes.parse(text));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "1.5", "0.5", "1kB", "1KiB", "1e3", "5M5", "-1", "8E", "18E", "1.5b", "M", "ten"})
    void refusesWhatQemuImgRefuses(String text) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Sizes.parse(text));
        assertTrue(e.getMessage().contains("'" + text + "'"), e.getMessage());
    }

    @ParameterizedTest
    @CsvSource({
        "0, 0 B",
        "512, 512 B",
        "1000, 0.977 KiB",
        "1024, 1 KiB",
        "266240, 260 KiB",
        "1314816, 1.25 MiB",
        "10485760, 10 MiB",
        "1073741824, 1 GiB",
        "1610612736, 1.5 GiB",
        "9223372036854775807, 8 EiB"
    })
    void printsLikeQemuImg(long bytes, String human) {
        assertEquals(human, Sizes.human(bytes));
    }

    /** qemu-img create prints the size it parsed; every size both accept must parse to the same bytes. */
    @Test
    @Tag("interop")
    void agreesWithQemuImgCreate(@TempDir Path dir) throws Exception {
        Pattern printed = Pattern.compile("size=(\\d+)");
        for (String text : List.of("1", "513", "4k", "1.5M", "3G", "1.1T", "0x200", "2.75k", "1.0005K", "1.00048K")) {
            Cli.Result qemu = Cli.qemuImg(dir, "create", "-f", "raw", "sizes.raw", text);
            Matcher m = printed.matcher(qemu.out());
            assertTrue(m.find(), qemu.toString());
            assertEquals(Long.parseLong(m.group(1)), Sizes.parse(text), text);
            java.nio.file.Files.delete(dir.resolve("sizes.raw"));
        }
    }
}
