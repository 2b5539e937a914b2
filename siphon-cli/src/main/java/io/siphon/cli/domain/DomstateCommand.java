package io.siphon.cli.domain;

import io.siphon.api.Connection;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code siphon domstate DOMAIN}: the domain's state in virsh's words (running, shut off). */
@Command(name = "domstate", description = "Print a domain's state, as virsh domstate.", exitCodeOnInvalidInput = 1)
public final class DomstateCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "DOMAIN", description = "Domain name or UUID.")
    String domain;

    @Override
    public Integer call() {
        try (Connection connection = Connections.open(spec)) {
            String state = DomainIds.stateName(connection.lookup(domain).info().state());
            spec.commandLine().getOut().println(state);
            spec.commandLine().getOut().println();
        }
        return 0;
    }
}
