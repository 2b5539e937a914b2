package io.siphon.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The launcher builds the CLI on first use: a copy of the repository's committed files, never
 * built, answers its first command. Slow (a whole Maven build): {@code -Dsurefire.excludedGroups=}.
 */
@Tag("slow")
class LauncherBuildIT {
    @Test
    void buildsOnFirstUse(@TempDir Path dir) throws Exception {
        Path copy = dir.resolve("siphon");
        Cli.Result archive = Cli.run(
                CompletionScriptTest.REPOSITORY,
                "sh",
                "-c",
                "mkdir -p '" + copy + "' && git ls-files -z | xargs -0 tar cf - | tar xf - -C '" + copy + "'");
        assertEquals(0, archive.status(), archive.toString());
        assertTrue(Files.notExists(copy.resolve("siphon-cli/target")));

        Cli.Result first = Cli.run(dir, copy.resolve("siphon").toString(), "image", "--help");
        assertEquals(0, first.status(), first.toString());
        assertTrue(first.err().contains("building the command line"), first.err());
        assertTrue(first.out().startsWith("Usage: siphon image"), first.out());

        Cli.Result second = Cli.run(dir, copy.resolve("siphon").toString(), "image", "--help");
        assertEquals(List.of(0, ""), List.of(second.status(), second.err()));
    }
}
