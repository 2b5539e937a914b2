package io.siphon.cli.domain;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.siphon.api.BlockJobStatus;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * How {@code blockpull --wait} reports each way a job can end; the completed and aborted ends are
 * also seen end to end in DomainCommandsTest and VirshProcessIT, a failed one only here (no real
 * fault makes the engine fail a pull on demand).
 */
class PullOutcomeTest {
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int report(BlockJobStatus status, Optional<String> error) {
        return BlockpullCommand.report(
                new BlockJobWait.Outcome(status, error), new PrintWriter(out, true), new PrintWriter(err, true));
    }

    @Test
    void completedIsStatusZero() {
        assertEquals(0, report(BlockJobStatus.COMPLETED, Optional.empty()));
        assertEquals("Pull complete\n", out.toString());
        assertEquals("", err.toString());
    }

    @Test
    void abortedIsStatusOneOnStdout() {
        assertEquals(1, report(BlockJobStatus.CANCELED, Optional.empty()));
        assertEquals("Pull aborted\n", out.toString());
    }

    @Test
    void failedGivesTheReasonOnStderr() {
        assertEquals(1, report(BlockJobStatus.FAILED, Optional.of("base.qcow2: read at offset 1048576 failed: EIO")));
        assertEquals("", out.toString());
        assertEquals("Pull failed: base.qcow2: read at offset 1048576 failed: EIO\n", err.toString());
    }
}
