package io.siphon.cli.domain;

import io.siphon.api.Connection;
import io.siphon.api.DiskInfo;
import io.siphon.cli.CliException;
import io.siphon.cli.view.VirshTable;
import io.siphon.protocol.Result;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code siphon domblklist DOMAIN [--details]}: a domain's disks and their NBD exports. */
@Command(
        name = "domblklist",
        description = {
            "List a domain's disks, as virsh domblklist, with each disk's NBD URI while the domain runs"
                    + " (- when it is shut off)."
        },
        exitCodeOnInvalidInput = 1)
public final class DomblklistCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "DOMAIN", description = "Domain name or UUID.")
    String domain;

    @Option(names = "--details", description = "Also show the type, device, format and copy-on-read.")
    boolean details;

    @Mixin
    OutputOption output;

    @Override
    public Integer call() throws CliException {
        boolean json = output.json();
        PrintWriter out = spec.commandLine().getOut();
        try (Connection connection = Connections.open(spec)) {
            if (json) {
                OutputOption.print(
                        out, Result.Disks.of(connection.lookup(domain).disks()));
                return 0;
            }
            VirshTable table = details
                    ? new VirshTable("Type", "Device", "Target", "Source", "Format", "Copy-on-read", "NBD")
                    : new VirshTable("Target", "Source", "NBD");
            for (DiskInfo disk : connection.lookup(domain).disks()) {
                String nbd = disk.nbdUri().orElse("-");
                if (details) {
                    table.row(
                            "file",
                            disk.readOnly() ? "disk (read-only)" : "disk",
                            disk.target(),
                            disk.source(),
                            disk.format(),
                            disk.copyOnRead() ? "on" : "off",
                            nbd);
                } else {
                    table.row(disk.target(), disk.source(), nbd);
                }
            }
            table.print(out);
        }
        return 0;
    }
}
