package io.siphon.cli.domain;

import io.siphon.api.Connection;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code siphon uri}: the URI the domain commands connect to, as virsh uri. */
@Command(name = "uri", description = "Print the URI the domain commands connect to.", exitCodeOnInvalidInput = 1)
public final class UriCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        try (Connection connection = Connections.open(spec)) {
            spec.commandLine().getOut().println(connection.uri());
            spec.commandLine().getOut().println();
        }
        return 0;
    }
}
