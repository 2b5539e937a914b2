package io.siphon.cli.domain;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.siphon.api.BlockInfo;
import io.siphon.api.Connection;
import io.siphon.api.DiskInfo;
import io.siphon.api.Domain;
import io.siphon.cli.CliException;
import io.siphon.cli.view.JobProgress;
import io.siphon.cli.view.VirshTable;
import io.siphon.protocol.MessageCodec;
import io.siphon.protocol.Result;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code siphon domblkinfo DOMAIN DISK|--all [--human]}: a disk's sizes, in virsh's layout. */
@Command(
        name = "domblkinfo",
        description = "Show a disk's capacity, allocation and physical size (or every disk's, --all), as virsh.",
        exitCodeOnInvalidInput = 1)
public final class DomblkinfoCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    DiskQueryArguments arguments;

    @Option(names = "--all", description = "Every disk of the domain, as a table.")
    boolean all;

    @Mixin
    OutputOption output;

    @Override
    public Integer call() throws CliException {
        BlockpullCommand.exclusive("all", "device", all && arguments.disk.isPresent());
        if (!all && arguments.disk.isEmpty()) {
            throw new CliException("command 'domblkinfo' requires <device> option");
        }
        boolean json = output.json();
        PrintWriter out = spec.commandLine().getOut();
        try (Connection connection = Connections.open(spec)) {
            Domain found = connection.lookup(arguments.domain);
            if (!all) {
                BlockInfo info = found.blockInfo(arguments.disk.get());
                if (json) {
                    OutputOption.print(out, Result.BlockInfo.of(info));
                    return 0;
                }
                String[] cells = cells(info);
                out.println(String.format("%-15s %s", "Capacity:", cells[0]));
                out.println(String.format("%-15s %s", "Allocation:", cells[1]));
                out.println(String.format("%-15s %s", "Physical:", cells[2]));
                out.println();
                return 0;
            }
            ArrayNode array = JsonNodeFactory.instance.arrayNode();
            VirshTable table = new VirshTable("Target", "Capacity", "Allocation", "Physical");
            for (DiskInfo each : found.disks()) {
                BlockInfo info = found.blockInfo(each.target());
                ObjectNode node = array.addObject().put("target", each.target());
                node.setAll((ObjectNode) MessageCodec.tree(Result.BlockInfo.of(info)));
                String[] cells = cells(info);
                table.row(each.target(), cells[0], cells[1], cells[2]);
            }
            if (json) {
                OutputOption.print(out, array);
            } else {
                table.print(out);
            }
        }
        return 0;
    }

    /** Capacity, allocation and physical as virsh prints them: bytes, --human sizes, or - when all are 0. */
    private String[] cells(BlockInfo info) {
        long[] sizes = {info.capacityBytes(), info.allocationBytes(), info.physicalBytes()};
        String[] cells = new String[3];
        for (int i = 0; i < 3; i++) {
            boolean none = sizes[0] == 0 && sizes[1] == 0 && sizes[2] == 0;
            cells[i] = none ? "-" : arguments.human ? JobProgress.prettyCapacity(sizes[i]) : Long.toString(sizes[i]);
        }
        return cells;
    }
}
