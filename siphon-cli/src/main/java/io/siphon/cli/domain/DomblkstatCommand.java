package io.siphon.cli.domain;

import io.siphon.api.BlockStats;
import io.siphon.api.Connection;
import io.siphon.api.Domain;
import io.siphon.cli.CliException;
import io.siphon.protocol.Result;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code siphon domblkstat DOMAIN [DISK] [--human]}: the guest's I/O on a disk (or all, summed)
 * since the domain started, in virsh's layout ({@code vda rd_req 5}).
 */
@Command(
        name = "domblkstat",
        description = "Show the guest's I/O counters of a running domain's disk (all disks summed without DISK),"
                + " as virsh domblkstat.",
        exitCodeOnInvalidInput = 1)
public final class DomblkstatCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    DiskQueryArguments arguments;

    @Mixin
    OutputOption output;

    /** One line of virsh's output: its short (legacy or typed-parameter) name and its explanation. */
    private record Field(String name, String explanation, long value) {}

    @Override
    public Integer call() throws CliException {
        boolean json = output.json();
        PrintWriter out = spec.commandLine().getOut();
        try (Connection connection = Connections.open(spec)) {
            Domain found = connection.lookup(arguments.domain);
            BlockStats stats = arguments.disk.isPresent() ? found.blockStats(arguments.disk.get()) : found.blockStats();
            if (json) {
                OutputOption.print(out, Result.BlockStats.of(stats));
                return 0;
            }
            // virsh names the device as it was typed, and then prints none in the human form
            String device = arguments.disk.orElse("");
            if (arguments.human) {
                out.println("Device: " + device);
                device = "";
            }
            for (Field field : fields(stats)) {
                out.println(
                        device + " " + (arguments.human ? String.format("%-31s", field.explanation()) : field.name())
                                + " " + field.value());
            }
            out.println();
        }
        return 0;
    }

    /** virsh's fields in its order (errs is absent, as libvirt's qemu driver leaves it out). */
    private static List<Field> fields(BlockStats s) {
        return List.of(
                new Field("rd_req", "number of read operations:", s.readRequests()),
                new Field("rd_bytes", "number of bytes read:", s.readBytes()),
                new Field("wr_req", "number of write operations:", s.writeRequests()),
                new Field("wr_bytes", "number of bytes written:", s.writeBytes()),
                new Field("flush_operations", "number of flush operations:", s.flushRequests()),
                new Field("rd_total_times", "total duration of reads (ns):", s.readTotalNanos()),
                new Field("wr_total_times", "total duration of writes (ns):", s.writeTotalNanos()),
                new Field("flush_total_times", "total duration of flushes (ns):", s.flushTotalNanos()));
    }
}
