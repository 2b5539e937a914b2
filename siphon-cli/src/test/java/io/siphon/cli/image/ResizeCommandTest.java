package io.siphon.cli.image;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.siphon.cli.Cli;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code image resize} and {@code qemu-img resize} on copies of the same image: same output, same
 * exit status, and results that read the same and pass qemu-img check.
 */
@Tag("interop")
class ResizeCommandTest {
    @TempDir
    Path dir;

    private String path(String name) {
        return dir.resolve(name).toString();
    }

    /** A written image in {@code format} (qcow2 with 4k clusters: growing to gigabytes moves its L1 table). */
    private void image(String format, String name) throws Exception {
        List<String> create = format.equals("qcow2")
                ? List.of("create", "-f", "qcow2", "-o", "cluster_size=4k", path(name), "3M")
                : List.of("create", "-f", format, path(name), "3M");
        assertEquals(0, Cli.qemuImg(dir, create.toArray(String[]::new)).status());
        Cli.qemuIo(dir, format, name, "write -P 0x21 0 1M", "write -P 0x22 2M 1M");
    }

    @Test
    void growAndShrinkAsQemuImgDoes() throws Exception {
        for (String format : List.of("qcow2", "raw", "qed")) {
            image(format, "s." + format);
            Files.copy(dir.resolve("s." + format), dir.resolve("q." + format));
            for (List<String> args : List.of(
                    List.of("+3G"),
                    List.of("--shrink", "1500000"),
                    List.of("--shrink", "1500160"),
                    List.of("1M"),
                    List.of("--shrink", "--", "-512"),
                    List.of("-q", "4G"))) {
                String[] ours = command(format, path("s." + format), args);
                String[] theirs = command(format, path("q." + format), args);
                Cli.Result siphon = Cli.siphon(prefixed(ours));
                Cli.Result qemu = Cli.qemuImg(dir, theirs);
                String what = format + " " + args;
                assertEquals(qemu.status(), siphon.status(), what + "\nsiphon: " + siphon + "\nqemu: " + qemu);
                assertEquals(qemu.out(), siphon.out(), what);
                if (siphon.status() != 0) {
                    assertEquals(1, siphon.err().lines().count(), what + ": " + siphon.err());
                }
                Cli.Result same = Cli.qemuImg(
                        dir, "compare", "-f", format, "-F", format, path("q." + format), path("s." + format));
                assertEquals(0, same.status(), what + ": " + same);
                if (!format.equals("raw")) {
                    assertEquals(
                            0, Cli.qemuImg(dir, "check", path("s." + format)).status(), what);
                }
            }
        }
    }

    private static String[] command(String format, String file, List<String> args) {
        List<String> command = new java.util.ArrayList<>(List.of("resize", "-f", format));
        int sizeAt = args.indexOf("--") >= 0 ? args.indexOf("--") : args.size() - 1;
        command.addAll(args.subList(0, sizeAt));
        if (args.contains("--")) {
            command.add(file);
            command.addAll(args.subList(sizeAt, args.size()));
        } else {
            command.add(file);
            command.add(args.getLast());
        }
        return command.toArray(String[]::new);
    }

    private static String[] prefixed(String[] args) {
        String[] all = new String[args.length + 1];
        all[0] = "image";
        System.arraycopy(args, 0, all, 1, args.length);
        return all;
    }
}
