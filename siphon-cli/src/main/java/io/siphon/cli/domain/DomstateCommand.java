package io.siphon.cli.domain;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.siphon.api.Connection;
import io.siphon.api.DomainInfo;
import io.siphon.cli.CliException;
import io.siphon.protocol.MessageCodec;
import io.siphon.protocol.Result;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
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

    @Mixin
    OutputOption output;

    @Override
    public Integer call() throws CliException {
        boolean json = output.json();
        try (Connection connection = Connections.open(spec)) {
            DomainInfo info = connection.lookup(domain).info();
            if (json) {
                ObjectNode node = JsonNodeFactory.instance.objectNode();
                node.set("state", MessageCodec.tree(Result.Domain.of(info)).get("state"));
                OutputOption.print(spec.commandLine().getOut(), node);
                return 0;
            }
            String state = DomainIds.stateName(info.state());
            spec.commandLine().getOut().println(state);
            spec.commandLine().getOut().println();
        }
        return 0;
    }
}
