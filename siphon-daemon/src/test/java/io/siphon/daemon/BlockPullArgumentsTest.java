package io.siphon.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.api.ErrorCode;
import io.siphon.api.PullStrategy;
import io.siphon.api.SiphonException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a pull refuses before it runs: each refusal is typed, names the disk, and leaves no record. */
class BlockPullArgumentsTest {
    @TempDir
    Path dir;

    @Test
    void aBadSpeedOrABaseOutsideTheChainIsInvalidAndLeavesNoRecord() throws Exception {
        Path state = dir.resolve("state");
        DomainManager manager = DomainManager.open(state);
        try {
            manager.define(TestDomains.rawDomainXml(dir, "d"));
            manager.start("d");
            Path elsewhere = Files.write(dir.resolve("elsewhere.img"), new byte[4096]);
            for (String base :
                    List.of(elsewhere.toString(), dir.resolve("missing.img").toString())) {
                SiphonException e = assertThrows(
                        SiphonException.class,
                        () -> manager.blockPull("d", "vda", Optional.of(base), 0, false, PullStrategy.DEFAULT));
                assertEquals(ErrorCode.INVALID_ARG, e.code(), e.getMessage());
                assertTrue(e.getMessage().contains("disk vda: base " + base), e.getMessage());
            }
            SiphonException speed = assertThrows(
                    SiphonException.class,
                    () -> manager.blockPull("d", "vda", Optional.empty(), -1, false, PullStrategy.DEFAULT));
            assertEquals(ErrorCode.INVALID_ARG, speed.code(), speed.getMessage());
            try (var records = Files.list(state.resolve("jobs"))) {
                assertEquals(0, records.count());
            }
            assertEquals(Optional.empty(), manager.blockJobInfo("d", "vda"));
            manager.destroy("d");
        } finally {
            manager.close();
        }
    }
}
