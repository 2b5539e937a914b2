package io.siphon.cli.domain;

import io.siphon.api.Connection;
import io.siphon.api.Domain;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * What {@code start}, {@code shutdown}, {@code destroy} and {@code undefine} share: one domain
 * argument, one API call, and virsh's one-line report {@code Domain 'NAME' started}.
 */
abstract class DomainLifecycleCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "DOMAIN", description = "Domain name or UUID.")
    String domain;

    /** Changes {@code found}'s state. */
    abstract void change(Connection connection, Domain found);

    /** What virsh says after the domain's name, e.g. {@code started}. */
    abstract String done();

    @Override
    public final Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        try (Connection connection = Connections.open(spec)) {
            Domain found = connection.lookup(domain);
            change(connection, found);
            out.println("Domain '" + found.name() + "' " + done());
            out.println();
        }
        return 0;
    }
}
