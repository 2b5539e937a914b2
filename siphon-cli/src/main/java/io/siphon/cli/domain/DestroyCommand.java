package io.siphon.cli.domain;

import io.siphon.api.Connection;
import io.siphon.api.Domain;
import picocli.CommandLine.Command;

/** {@code siphon destroy DOMAIN}: Stop a domain at once: cancel its jobs and close its disks without flushing. */
@Command(
        name = "destroy",
        description = "Stop a domain at once: cancel its jobs and close its disks without flushing.",
        exitCodeOnInvalidInput = 1)
public final class DestroyCommand extends DomainLifecycleCommand {
    @Override
    void change(Connection connection, Domain found) {
        found.destroy();
    }

    @Override
    String done() {
        return "destroyed";
    }
}
