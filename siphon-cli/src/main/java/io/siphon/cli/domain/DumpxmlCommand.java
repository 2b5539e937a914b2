package io.siphon.cli.domain;

import io.siphon.api.Connection;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code siphon dumpxml DOMAIN}: the domain's XML as defined, with what Siphon does not use kept. */
@Command(
        name = "dumpxml",
        description = "Print a domain's XML as it was defined (what Siphon does not use is kept), as virsh dumpxml.",
        exitCodeOnInvalidInput = 1)
public final class DumpxmlCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "DOMAIN", description = "Domain name or UUID.")
    String domain;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        try (Connection connection = Connections.open(spec)) {
            String xml = connection.lookup(domain).xmlDesc();
            out.print(xml.endsWith("\n") ? xml : xml + "\n");
            out.println();
        }
        return 0;
    }
}
