package io.siphon.cli.domain;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.siphon.api.Connection;
import io.siphon.api.DomainInfo;
import io.siphon.api.DomainState;
import io.siphon.cli.CliException;
import io.siphon.cli.view.VirshTable;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code siphon list [--all|--inactive] [--autostart|--no-autostart] [--name|--uuid]}: the domains,
 * as virsh's table, or as JSON.
 */
@Command(
        name = "list",
        description = "List running domains (with --all every defined domain), as virsh list.",
        exitCodeOnInvalidInput = 1)
public final class ListCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--all", description = "List shut-off domains too.")
    boolean all;

    @Option(names = "--inactive", description = "List only shut-off domains.")
    boolean inactive;

    @Option(names = "--name", description = "Print only the names, one a line.")
    boolean nameOnly;

    @Option(names = "--uuid", description = "Print only the UUIDs, one a line.")
    boolean uuidOnly;

    @Option(names = "--autostart", description = "List only domains marked autostart.")
    boolean autostart;

    @Option(names = "--no-autostart", description = "List only domains not marked autostart.")
    boolean noAutostart;

    @Mixin
    OutputOption output;

    @Override
    public Integer call() throws CliException {
        if (all && inactive) {
            throw new CliException("Options --all and --inactive are mutually exclusive");
        }
        if (nameOnly && uuidOnly) {
            throw new CliException("Options --name and --uuid are mutually exclusive");
        }
        BlockpullCommand.exclusive("autostart", "no-autostart", autostart && noAutostart);
        boolean json = output.json();
        PrintWriter out = spec.commandLine().getOut();
        try (Connection connection = Connections.open(spec)) {
            List<DomainInfo> domains = connection.list();
            List<DomainInfo> shown = domains.stream()
                    .filter(d ->
                            all || (inactive ? d.state() != DomainState.RUNNING : d.state() == DomainState.RUNNING))
                    .filter(d -> !(autostart && !d.autostart()) && !(noAutostart && d.autostart()))
                    .toList();
            if (json) {
                ArrayNode array = JsonNodeFactory.instance.arrayNode();
                shown.forEach(d -> array.add(DomainJson.of(d, domains)));
                OutputOption.print(out, array);
                return 0;
            }
            if (nameOnly || uuidOnly) {
                shown.forEach(d -> out.println(nameOnly ? d.name() : d.uuid().toString()));
                out.println();
                return 0;
            }
            VirshTable table = new VirshTable("Id", "Name", "State");
            for (DomainInfo domain : shown) {
                table.row(DomainIds.idOf(domain, domains), domain.name(), DomainIds.stateName(domain.state()));
            }
            table.print(out);
        }
        return 0;
    }
}
