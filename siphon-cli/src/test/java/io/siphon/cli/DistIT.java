package io.siphon.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.api.SiphonVersion;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code scripts/dist} from the jars the package phase built: the tarball unpacked in a temporary
 * directory runs {@code bin/siphon --version} and {@code image info} as qemu-img does, from any
 * directory and through a symlink; its man pages render; it holds the unit, the configuration and
 * the completion.
 */
@Tag("interop")
@Timeout(300)
class DistIT {
    private static final Path DIST =
            CompletionScriptTest.REPOSITORY.resolve("scripts").resolve("dist");

    @TempDir
    Path dir;

    private Path unpacked() throws Exception {
        Cli.Result build = Cli.run(
                dir,
                DIST.toString(),
                "--no-build",
                "--output",
                dir.resolve("out").toString());
        assertEquals(0, build.status(), build.toString());
        Path tarball = Path.of(build.out().strip());
        assertEquals(
                "siphon-" + SiphonVersion.current() + ".tar.gz",
                tarball.getFileName().toString());
        Files.createDirectories(dir.resolve("opt"));
        Cli.Result unpack = Cli.run(
                dir, "tar", "-xzf", tarball.toString(), "-C", dir.resolve("opt").toString());
        assertEquals(0, unpack.status(), unpack.toString());
        return dir.resolve("opt").resolve("siphon-" + SiphonVersion.current());
    }

    private Cli.Result siphon(Path top, Path cache, String aot, String... args) throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of(
                "env",
                "SIPHON_CACHE_DIR=" + cache,
                "SIPHON_AOT=" + aot,
                top.resolve("bin").resolve("siphon").toString()));
        command.addAll(List.of(args));
        return Cli.run(dir, command.toArray(String[]::new));
    }

    @Test
    void tarballRunsFromAnywhere() throws Exception {
        Path top = unpacked();
        for (String file : List.of(
                "bin/siphon",
                "lib/siphon-cli.jar",
                "lib/siphon-env.sh",
                "lib/systemd/system/siphon.service",
                "etc/siphon/daemon.conf",
                "share/bash-completion/completions/siphon",
                "share/man/man1/siphon.1",
                "share/man/man1/siphon-image.1",
                "share/man/man8/siphon-daemon.8")) {
            assertTrue(Files.exists(top.resolve(file)), file);
        }
        Path cache = dir.resolve("cache");
        Cli.Result version = siphon(top, cache, "0", "--version");
        assertEquals(
                List.of(0, SiphonVersion.current() + "\n", ""),
                List.of(version.status(), version.out(), version.err()));

        Cli.qemuImgOk(dir, "create", "-q", "-f", "qcow2", "disk.qcow2", "16M");
        Cli.qemuIo(dir, "qcow2", "disk.qcow2", "write -P 0x11 0 1M");
        Cli.Result info = siphon(top, cache, "0", "image", "info", "disk.qcow2");
        assertEquals(0, info.status(), info.toString());
        assertEquals(Cli.qemuImg(dir, "info", "disk.qcow2").out(), info.out());

        Path link = dir.resolve("bin").resolve("siphon");
        Files.createDirectories(link.getParent());
        Files.createSymbolicLink(link, top.resolve("bin").resolve("siphon"));
        Cli.Result linked = Cli.run(dir, "env", "SIPHON_AOT=0", link.toString(), "--version");
        assertEquals(SiphonVersion.current() + "\n", linked.out(), linked.toString());
    }

    @Test
    void manPagesRender() throws Exception {
        Cli.Result which = Cli.run(dir, "sh", "-c", "command -v man || true");
        Assumptions.assumeFalse(which.out().isBlank(), "man is not installed");
        Path top = unpacked();
        List<Path> pages;
        try (Stream<Path> files = Files.walk(top.resolve("share").resolve("man"))) {
            pages = files.filter(Files::isRegularFile).toList();
        }
        assertTrue(pages.size() > 10, pages.toString());
        for (Path page : pages) {
            Cli.Result man = Cli.run(
                    dir, "env", "MANWIDTH=100", "MAN_KEEP_FORMATTING=0", "man", "-P", "cat", "-l", page.toString());
            assertEquals(0, man.status(), page + ": " + man);
            assertTrue(man.err().isBlank(), page + ": " + man.err());
            String text = plain(man.out());
            assertTrue(text.contains("NAME") && text.contains("SYNOPSIS"), page + ":\n" + text);
        }
        Cli.Result daemon = Cli.run(
                dir,
                "env",
                "MANWIDTH=100",
                "man",
                "-P",
                "cat",
                "-l",
                top.resolve("share/man/man8/siphon-daemon.8").toString());
        for (String option : List.of("--config", "--log-level", "--tls-listen", "--tls-cert", "--http")) {
            assertTrue(plain(daemon.out()).contains(option), option + " not in siphon-daemon(8)");
        }
    }

    /** man's output without the overstrikes it writes for bold and underline when not on a terminal. */
    private static String plain(String manOutput) {
        return manOutput.replaceAll(".\b", "");
    }

    /** The start-up cache is built in the background on first use, then used; slow (a training run). */
    @Tag("slow")
    @Test
    void startUpCacheIsBuiltOnFirstUse() throws Exception {
        Path top = unpacked();
        Path cache = dir.resolve("cache");
        assertEquals(0, siphon(top, cache, "1", "--version").status());
        long deadline = System.nanoTime() + Duration.ofMinutes(4).toNanos();
        Path stamp;
        do {
            try (Stream<Path> files = Files.list(cache)) {
                stamp = files.filter(f -> f.toString().endsWith(".aot.stamp"))
                        .findFirst()
                        .orElse(null);
            }
            if (stamp == null) {
                Thread.sleep(200); // polling the background build, which no handle of ours can wait on
            }
        } while (stamp == null && System.nanoTime() < deadline);
        assertTrue(stamp != null, "no cache after 4 minutes: " + Files.readString(cache.resolve("aot.log")));
        Cli.Result version = siphon(top, cache, "1", "--version");
        assertEquals(
                List.of(0, SiphonVersion.current() + "\n", ""),
                List.of(version.status(), version.out(), version.err()));
    }
}
