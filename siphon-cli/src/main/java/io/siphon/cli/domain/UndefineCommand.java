package io.siphon.cli.domain;

import io.siphon.api.Connection;
import io.siphon.api.Domain;
import picocli.CommandLine.Command;

/** {@code siphon undefine DOMAIN}: Remove a shut-off domain's definition; its image files stay. */
@Command(
        name = "undefine",
        description = "Remove a shut-off domain's definition; its image files stay.",
        exitCodeOnInvalidInput = 1)
public final class UndefineCommand extends DomainLifecycleCommand {
    @Override
    void change(Connection connection, Domain found) {
        connection.undefine(found.name());
    }

    @Override
    String done() {
        return "has been undefined";
    }
}
