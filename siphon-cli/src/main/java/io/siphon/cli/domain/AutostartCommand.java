package io.siphon.cli.domain;

import io.siphon.api.Connection;
import io.siphon.api.Domain;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code siphon autostart DOMAIN [--disable]}: marks a domain to start with its daemon, or not. */
@Command(
        name = "autostart",
        description = "Mark a domain to start when its daemon starts (--disable: unmark it), as virsh autostart.",
        exitCodeOnInvalidInput = 1)
public final class AutostartCommand extends DomainLifecycleCommand {
    @Option(names = "--disable", description = "Do not start the domain with the daemon.")
    boolean disable;

    @Override
    void change(Connection connection, Domain found) {
        found.setAutostart(!disable);
    }

    @Override
    String done() {
        return disable ? "unmarked as autostarted" : "marked as autostarted";
    }
}
