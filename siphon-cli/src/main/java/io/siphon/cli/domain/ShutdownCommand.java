package io.siphon.cli.domain;

import io.siphon.api.Connection;
import io.siphon.api.Domain;
import picocli.CommandLine.Command;

/** {@code siphon shutdown DOMAIN}: Shut a domain down cleanly: stop its jobs, flush and close its disks. */
@Command(
        name = "shutdown",
        description = "Shut a domain down cleanly: stop its jobs, flush and close its disks.",
        exitCodeOnInvalidInput = 1)
public final class ShutdownCommand extends DomainLifecycleCommand {
    @Override
    void change(Connection connection, Domain found) {
        found.shutdown();
    }

    @Override
    String done() {
        return "is being shutdown";
    }
}
