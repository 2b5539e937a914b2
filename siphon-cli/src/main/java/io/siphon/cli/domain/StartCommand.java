package io.siphon.cli.domain;

import io.siphon.api.Connection;
import io.siphon.api.Domain;
import picocli.CommandLine.Command;

/** {@code siphon start DOMAIN}: Start a defined domain: open its disks' chains, lock them and export them over NBD. */
@Command(
        name = "start",
        description = "Start a defined domain: open its disks' chains, lock them and export them over NBD.",
        exitCodeOnInvalidInput = 1)
public final class StartCommand extends DomainLifecycleCommand {
    @Override
    void change(Connection connection, Domain found) {
        found.start();
        if (Connections.inProcess(connection.uri().toString())) {
            // the embedded engine lives in this process: its NBD exports end when the command does
            spec.commandLine()
                    .getErr()
                    .println("siphon: note: with " + connection.uri()
                            + " the domain runs only while this process does; use the daemon to keep it running");
        }
    }

    @Override
    String done() {
        return "started";
    }
}
