package io.siphon.cli.domain;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.siphon.api.BlockJobInfo;
import io.siphon.api.Connection;
import io.siphon.api.DiskInfo;
import io.siphon.api.Domain;
import io.siphon.api.DomainInfo;
import io.siphon.api.DomainState;
import io.siphon.cli.CliException;
import java.io.PrintWriter;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
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

    @Mixin
    OutputOption output;

    @Override
    public Integer call() throws CliException {
        boolean json = output.json();
        PrintWriter out = spec.commandLine().getOut();
        try (Connection connection = Connections.open(spec)) {
            Domain found = connection.lookup(domain);
            DomainInfo info = found.info();
            if (json) {
                ObjectNode node = DomainJson.of(info, connection.list()).put("persistent", true);
                if (info.state() == DomainState.RUNNING) {
                    node.put("block-jobs", blockJobs(found));
                }
                OutputOption.print(out, node);
                return 0;
            }
            field(out, "Id:", DomainIds.idOf(info, connection.list()));
            field(out, "Name:", info.name());
            field(out, "UUID:", info.uuid().toString());
            field(out, "State:", DomainIds.stateName(info.state()));
            field(out, "Persistent:", "yes");
            field(out, "Autostart:", info.autostart() ? "enable" : "disable");
            field(out, "Disks:", Integer.toString(info.diskCount()));
            if (info.state() == DomainState.RUNNING) {
                field(out, "Block jobs:", Integer.toString(blockJobs(found)));
            }
            out.println();
        }
        return 0;
    }

    private static int blockJobs(Domain found) {
        int jobs = 0;
        for (DiskInfo disk : found.disks()) {
            Optional<BlockJobInfo> job = found.blockJobInfo(disk.target());
            jobs += job.isPresent() ? 1 : 0;
        }
        return jobs;
    }

    /** virsh's {@code %-15s %s}. */
    private static void field(PrintWriter out, String label, String value) {
        out.println(String.format("%-15s %s", label, value));
    }
}
