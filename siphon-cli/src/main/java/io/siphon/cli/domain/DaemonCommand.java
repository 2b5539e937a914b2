package io.siphon.cli.domain;

import io.siphon.daemon.DaemonMain;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Unmatched;

/** {@code siphon daemon}: runs the Siphon daemon in the foreground (io.siphon.daemon's entry point). */
@Command(
        name = "daemon",
        description = {
            "Run the daemon in the foreground until SIGTERM or Ctrl-C: it serves the control protocol on"
                    + " STATEDIR/siphon.sock (read-only: siphon-ro.sock), and runs domains and their jobs."
        },
        exitCodeOnInvalidInput = 1)
public final class DaemonCommand implements Callable<Integer> {
    @Option(
            names = "--state-dir",
            paramLabel = "DIR",
            required = true,
            description = "Where definitions and job records live.")
    Path stateDir;

    @Option(
            names = "--socket",
            paramLabel = "PATH",
            description = "The read-write control socket (default DIR/siphon.sock).")
    Optional<Path> socket = Optional.empty();

    @Option(
            names = "--ro-socket",
            paramLabel = "PATH",
            description = "The read-only control socket (default DIR/siphon-ro.sock).")
    Optional<Path> readOnlySocket = Optional.empty();

    /** Further daemon options (TLS listeners) pass through unchanged. */
    @Unmatched
    List<String> more = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        List<String> args = new ArrayList<>(List.of("--state-dir", stateDir.toString()));
        socket.ifPresent(s -> args.addAll(List.of("--socket", s.toString())));
        readOnlySocket.ifPresent(s -> args.addAll(List.of("--ro-socket", s.toString())));
        args.addAll(more);
        DaemonMain.main(args.toArray(String[]::new));
        return 0;
    }
}
