package io.siphon.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.siphon.cli.domain.ListCommand;
import io.siphon.cli.image.ImageCommand;
import io.siphon.daemon.DaemonMain;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A command line builds the model of the command it names only; help and typing errors get every command. */
class CommandsForTest {
    @Test
    void theNamedCommandAlone() {
        assertEquals(List.of(ImageCommand.class), Main.commandsFor(new String[] {"image", "info", "x.qcow2"}));
        assertEquals(List.of(ListCommand.class), Main.commandsFor(new String[] {"-c", "list", "list", "--all"}));
        assertEquals(
                List.of(ListCommand.class),
                Main.commandsFor(new String[] {"--connect=embedded:///d", "--debug", "list"}));
        assertEquals(List.of(DaemonMain.class), Main.commandsFor(new String[] {"daemon", "--state-dir", "s"}));
    }

    @Test
    void everyCommandWhenNoneIsNamed() {
        assertEquals(SiphonCommand.COMMANDS, Main.commandsFor(new String[] {}));
        assertEquals(SiphonCommand.COMMANDS, Main.commandsFor(new String[] {"--help"}));
        assertEquals(SiphonCommand.COMMANDS, Main.commandsFor(new String[] {"imgae", "info"}));
    }

    /** A misspelt command is told apart from the real ones, as when every command was built. */
    @Test
    void misspeltCommandIsAUsageError() {
        Cli.Result result = Cli.siphon("imgae", "info");
        assertEquals(1, result.status());
        assertEquals(
                "siphon: Unmatched arguments from index 0: 'imgae', 'info'",
                result.err().lines().findFirst().orElse(""));
    }
}
