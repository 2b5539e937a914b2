package io.siphon.cli.domain;

import io.siphon.api.BlockJobInfo;
import io.siphon.api.Connection;
import io.siphon.api.DiskInfo;
import io.siphon.api.Domain;
import io.siphon.api.DomainInfo;
import io.siphon.api.DomainState;
import java.io.PrintWriter;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code siphon dominfo DOMAIN}: a domain's basic facts, labelled as virsh's dominfo. */
@Command(name = "dominfo", description = "Show a domain's id, name, UUID, state and disks.", exitCodeOnInvalidInput = 1)
public final class DominfoCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "DOMAIN", description = "Domain name or UUID.")
    String domain;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        try (Connection connection = Connections.open(spec)) {
            Domain found = connection.lookup(domain);
            DomainInfo info = found.info();
            field(out, "Id:", DomainIds.idOf(info, connection.list()));
            field(out, "Name:", info.name());
            field(out, "UUID:", info.uuid().toString());
            field(out, "State:", DomainIds.stateName(info.state()));
            field(out, "Persistent:", "yes");
            field(out, "Disks:", Integer.toString(info.diskCount()));
            if (info.state() == DomainState.RUNNING) {
                int jobs = 0;
                for (DiskInfo disk : found.disks()) {
                    Optional<BlockJobInfo> job = found.blockJobInfo(disk.target());
                    jobs += job.isPresent() ? 1 : 0;
                }
                field(out, "Block jobs:", Integer.toString(jobs));
            }
            out.println();
        }
        return 0;
    }

    /** virsh's {@code %-15s %s}. */
    private static void field(PrintWriter out, String label, String value) {
        out.println(String.format("%-15s %s", label, value));
    }
}
